from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core.outbox import register_handler
        from orders.models import WEBHOOK_TOPICS
        from orders.notifications import order_confirmation_send
        from orders.services.webhooks import webhook_deliveries_create

        register_handler("order.created", order_confirmation_send, name="orders.confirmation_email")
        for topic in WEBHOOK_TOPICS:
            register_handler(topic, webhook_deliveries_create, name="orders.webhooks")
