from orders.payments.services.authorization import PaymentIntentCheck, intent_problems, payment_checks
from orders.payments.services.intents import capture_amount, intent_apply, payment_capture, payment_void
from orders.payments.services.refunds import RefundInput, payment_refund, refund_request, refund_submit
from orders.payments.services.stripe_events import stripe_event_process, stripe_webhook_receive

__all__ = [
    "PaymentIntentCheck",
    "RefundInput",
    "capture_amount",
    "intent_apply",
    "intent_problems",
    "payment_capture",
    "payment_checks",
    "payment_refund",
    "payment_void",
    "refund_request",
    "refund_submit",
    "stripe_event_process",
    "stripe_webhook_receive",
]
