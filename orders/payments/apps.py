from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "orders.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from core.outbox import register_handler
        from orders.payments.handlers import (
            payment_capture_on_shipment,
            payment_refund_on_line_cancel,
            payment_void_on_cancel,
        )

        register_handler("order.cancelled", payment_void_on_cancel, name="payments.void_on_cancel")
        register_handler("shipment.shipped", payment_capture_on_shipment, name="payments.capture_on_shipment")
        register_handler("order.updated", payment_refund_on_line_cancel, name="payments.refund_on_line_cancel")
