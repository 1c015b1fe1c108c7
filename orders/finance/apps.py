from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "orders.finance"
    label = "finance"
    verbose_name = "Tax and currencies"
