"""Finishing what was promised but not done: a capture or void marked but never
answered (a crash, the broker down), a refund left pending, a Stripe event stored but
not applied. Each is retried with the same idempotency key, so nothing happens twice."""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from orders.payments.models import Payment, PaymentState, Refund, RefundState
from orders.payments.services.stripe_events import stripe_events_pending
from orders.payments.tasks import (
    payment_capture_task,
    payment_void_task,
    refund_submit_task,
    stripe_event_process_task,
)

GRACE = timedelta(minutes=1)
GIVE_UP = timedelta(days=7)  # Stripe releases an uncaptured authorization after 7 days
BATCH = 200


def payments_sweep(*, now=None) -> dict[str, int]:
    now = now or timezone.now()
    window = {"gte": now - GIVE_UP, "lt": now - GRACE}
    authorized = Payment.objects.filter(status=PaymentState.AUTHORIZED)
    voids = list(
        authorized.filter(void_requested_at__gte=window["gte"], void_requested_at__lt=window["lt"]).values_list(
            "pk", flat=True
        )[:BATCH]
    )
    captures = list(
        authorized.filter(
            capture_requested_at__gte=window["gte"], capture_requested_at__lt=window["lt"], void_requested_at=None
        ).values_list("pk", flat=True)[:BATCH]
    )
    refunds = list(
        Refund.objects.filter(
            status=RefundState.PENDING, created_at__gte=window["gte"], created_at__lt=window["lt"]
        ).values_list("pk", flat=True)[:BATCH]
    )
    events = stripe_events_pending(limit=BATCH)
    for payment_id in voids:
        transaction.on_commit(partial(payment_void_task.delay, payment_id=payment_id), robust=True)
    for payment_id in captures:
        transaction.on_commit(partial(payment_capture_task.delay, payment_id=payment_id), robust=True)
    for refund_id in refunds:
        transaction.on_commit(partial(refund_submit_task.delay, refund_id=refund_id), robust=True)
    for stored_id in events:
        transaction.on_commit(partial(stripe_event_process_task.delay, stored_id=stored_id), robust=True)
    return {"voids": len(voids), "captures": len(captures), "refunds": len(refunds), "events": len(events)}
