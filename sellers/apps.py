from django.apps import AppConfig


class SellersConfig(AppConfig):
    name = "sellers"
    verbose_name = "Sellers"

    def ready(self):
        from sellers import schema  # noqa: F401 - registers the OpenAPI security scheme
