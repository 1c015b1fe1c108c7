from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "orders.finance"
    label = "finance"
    verbose_name = "Tax and currencies"

    def ready(self):
        from orders.finance.models import TaxRate
        from orders.finance.selectors import tax_rates_cache

        tax_rates_cache.clear_on_change(TaxRate)
