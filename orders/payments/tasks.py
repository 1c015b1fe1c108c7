"""Thin tasks: ids in, one service call. Stripe being unreachable is retried with
backoff; a refusal is final (it is recorded on the payment or refund)."""

from celery import shared_task

from orders.payments.exceptions import PaymentProviderUnavailable

RETRYING = {
    "acks_late": True,
    "autoretry_for": (PaymentProviderUnavailable,),
    "max_retries": 8,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "soft_time_limit": 60,
    "time_limit": 90,
}


@shared_task(**RETRYING)
def payment_capture_task(*, payment_id: int) -> str:
    from orders.payments.services.common import SYSTEM
    from orders.payments.services.intents import payment_capture

    return payment_capture(payment_id=payment_id, actor=SYSTEM).status


@shared_task(**RETRYING)
def payment_void_task(*, payment_id: int) -> str:
    from orders.payments.services.common import SYSTEM
    from orders.payments.services.intents import payment_void

    return payment_void(payment_id=payment_id, actor=SYSTEM).status


@shared_task(**RETRYING)
def refund_submit_task(*, refund_id: int) -> str:
    from orders.payments.services.common import SYSTEM
    from orders.payments.services.refunds import refund_submit

    return refund_submit(refund_id=refund_id, actor=SYSTEM).status


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def stripe_event_process_task(*, stored_id: int) -> str:
    from orders.payments.services.stripe_events import stripe_event_process

    return stripe_event_process(stored_id=stored_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def payments_sweep_task() -> dict:
    from orders.payments.services.sweep import payments_sweep

    return payments_sweep()
