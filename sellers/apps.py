from django.apps import AppConfig


class SellersConfig(AppConfig):
    name = "sellers"
    verbose_name = "Sellers"

    def ready(self):
        from sellers import schema  # noqa: F401 - registers the OpenAPI security scheme
        from sellers.caches import api_keys_cache
        from sellers.models import ApiKey, Seller

        # A key or its seller changed through the models: this process reads them anew.
        api_keys_cache.clear_on_change(ApiKey, Seller)
