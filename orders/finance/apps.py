from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "orders.finance"
    label = "finance"
    verbose_name = "Tax and currencies"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from orders.finance.models import TaxRate
        from orders.finance.selectors import tax_rates_cache

        post_save.connect(tax_rates_cache.clear, sender=TaxRate, dispatch_uid="tax-rates-cache")
        post_delete.connect(tax_rates_cache.clear, sender=TaxRate, dispatch_uid="tax-rates-cache-d")
