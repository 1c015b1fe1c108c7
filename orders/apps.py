from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core.outbox import register_handler
        from orders.notifications import order_confirmation_send

        register_handler("order.created", order_confirmation_send, name="orders.confirmation_email")
