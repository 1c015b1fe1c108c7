from django.apps import AppConfig


class SellersConfig(AppConfig):
    name = "sellers"
    verbose_name = "Sellers"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from sellers import schema  # noqa: F401 - registers the OpenAPI security scheme
        from sellers.caches import api_keys_cache
        from sellers.models import ApiKey, Seller

        # A key or its seller changed through the models: this process reads them anew.
        for model in (ApiKey, Seller):
            post_save.connect(api_keys_cache.clear, sender=model, dispatch_uid=f"api-keys-cache-{model.__name__}")
            post_delete.connect(api_keys_cache.clear, sender=model, dispatch_uid=f"api-keys-cache-{model.__name__}-d")
