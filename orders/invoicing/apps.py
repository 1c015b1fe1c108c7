from django.apps import AppConfig


class InvoicingConfig(AppConfig):
    name = "orders.invoicing"
    label = "invoicing"
    verbose_name = "Invoicing"
