from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core.outbox import register_handler
        from inventory.services import STOCK_AVAILABLE, STOCK_SHORTFALL, WAREHOUSE_DEACTIVATED
        from orders.models import WEBHOOK_TOPICS, OrderPolicy, RiskRule
        from orders.notifications import order_confirmation_send, order_ready_for_pickup_send
        from orders.services.allocation import on_stock_available, on_stock_shortfall, on_warehouse_deactivated
        from orders.services.seller_checks import seller_checks_cache
        from orders.services.webhooks import webhook_deliveries_create

        # A policy or a rule saved here is used by this process's next order.
        seller_checks_cache.clear_on_change(OrderPolicy, RiskRule)

        register_handler("order.created", order_confirmation_send, name="orders.confirmation_email")
        register_handler("order.ready_for_pickup", order_ready_for_pickup_send, name="orders.pickup_email")
        register_handler(STOCK_AVAILABLE, on_stock_available, name="orders.backorders_fill")
        register_handler(STOCK_SHORTFALL, on_stock_shortfall, name="orders.shortfall_reroute")
        register_handler(WAREHOUSE_DEACTIVATED, on_warehouse_deactivated, name="orders.warehouse_reroute")
        for topic in WEBHOOK_TOPICS:
            register_handler(topic, webhook_deliveries_create, name="orders.webhooks")
