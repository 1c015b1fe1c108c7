"""Outbox handlers: other apps' events that move a payment. They run inside the
outbox's transaction, so they only mark the work and enqueue a task after commit; the
task talks to Stripe with no lock held. The marks let the sweep finish work whose task
was lost."""

from decimal import Decimal
from functools import partial

from django.db import transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from core.models import OutboxEvent
from orders.locks import orders_for_update
from orders.payments.models import Payment, PaymentState, RefundState
from orders.payments.services.common import SYSTEM
from orders.payments.services.refunds import REFUNDABLE_STATES, RefundInput, refund_request, refundable
from orders.payments.tasks import payment_capture_task, payment_void_task, refund_submit_task

CANCELLED_REFUND_REASON = "Order cancelled"


def _lock_order_first(order_id: int) -> None:
    """Every payment service locks the order, then its payments; these handlers run in
    the outbox's transaction beside others that lock the order, so they take the same
    order, or two of them can deadlock."""
    orders_for_update().filter(pk=order_id).first()


def payment_void_on_cancel(event: OutboxEvent) -> None:
    """``order.cancelled``: release an uncaptured authorization; refund a payment that
    was already captured by hand."""
    order_id = event.payload["order_id"]
    _lock_order_first(order_id)
    now = timezone.now()
    for payment in Payment.objects.filter(order_id=order_id, status=PaymentState.AUTHORIZED).order_by("pk"):
        Payment.objects.filter(pk=payment.pk, void_requested_at=None).update(void_requested_at=now)
        transaction.on_commit(partial(payment_void_task.delay, payment_id=payment.pk), robust=True)
    for payment in Payment.objects.filter(order_id=order_id, status__in=REFUNDABLE_STATES).order_by("pk"):
        try:
            refund, _ = refund_request(
                seller_id=payment.seller_id,
                order_id=order_id,
                data=RefundInput(amount=None, reason=CANCELLED_REFUND_REASON, idempotency_key=f"cancel:{payment.pk}"),
                actor=SYSTEM,
            )
        except ApplicationError:  # nothing left to refund
            continue
        if refund.status == RefundState.PENDING:
            transaction.on_commit(partial(refund_submit_task.delay, refund_id=refund.pk), robust=True)


def payment_capture_on_shipment(event: OutboxEvent) -> None:
    """``shipment.shipped``: the first shipment captures the order's total as it stands
    then (later shipments find the payment captured)."""
    order_id = event.payload["order_id"]
    _lock_order_first(order_id)
    now = timezone.now()
    for payment in Payment.objects.filter(
        order_id=order_id, status=PaymentState.AUTHORIZED, capture_requested_at=None
    ).order_by("pk"):
        Payment.objects.filter(pk=payment.pk, capture_requested_at=None).update(capture_requested_at=now)
        transaction.on_commit(partial(payment_capture_task.delay, payment_id=payment.pk), robust=True)


LINE_CANCELLED_REFUND_REASON = "Line cancelled after the payment was captured"


def payment_refund_on_line_cancel(event: OutboxEvent) -> None:
    """``order.updated`` after a line was cancelled: an authorization needs nothing (the
    capture takes the lower total), but money already captured for the cancelled units
    goes back. One refund per cancellation (keyed by the event), never more than what
    is left to refund."""
    if event.payload.get("change") != "line_cancelled":
        return
    order_id = event.payload["order_id"]
    cancelled = Decimal(event.payload.get("amount_cancelled") or 0)
    for payment in Payment.objects.filter(order_id=order_id, status__in=REFUNDABLE_STATES).order_by("pk"):
        amount = min(cancelled, refundable(payment).amount)
        if amount <= 0:
            continue
        refund, _ = refund_request(
            seller_id=payment.seller_id,
            order_id=order_id,
            data=RefundInput(
                amount=amount, reason=LINE_CANCELLED_REFUND_REASON, idempotency_key=f"line-cancel:{event.event_id}"
            ),
            actor=SYSTEM,
        )
        if refund.status == RefundState.PENDING:
            transaction.on_commit(partial(refund_submit_task.delay, refund_id=refund.pk), robust=True)
        cancelled -= amount
