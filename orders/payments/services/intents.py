"""Capturing and voiding a PaymentIntent. Each runs in three steps so no lock is held
while Stripe is asked: (1) a short transaction checks and marks the request, (2) Stripe
is called with an idempotency key derived from the payment, (3) a second transaction
applies what Stripe answered. Step 3 is the same code a webhook runs, and applying a
state twice changes nothing, so a retry, a crash between the steps or a webhook arriving
first all end in the same place."""

import logging
from functools import partial

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from core.money import from_minor_units, to_minor_units, zero
from orders.models import EventType
from orders.payments import gateway
from orders.payments.accounts import payment_credentials
from orders.payments.exceptions import InvalidPaymentState, PaymentProviderRefused
from orders.payments.gateway import IntentSnapshot
from orders.payments.models import Payment, PaymentState, RefundState
from orders.payments.services.common import (
    SYSTEM,
    can_move,
    money_text,
    payment_captured_announce,
    payment_lock,
    payment_status_move,
)
from orders.payments.services.refunds import RefundInput, refund_request, refundable
from orders.payments.tasks import refund_submit_task
from orders.status import Lifecycle, PaymentStatus

logger = logging.getLogger(__name__)


def capture_amount(*, order_total: Money, authorized: Money) -> Money:
    """What a capture takes: the order's total as it stands (cancelled lines already
    lowered it), never more than was authorized."""
    return min(order_total, authorized, key=lambda money: money.amount)


def payment_capture(*, payment_id: int, actor: Actor, seller_id: int | None = None, amount: Money | None = None):
    """Capture an authorized payment: ``amount`` or, by default, the order's current
    total. The rest of the authorization is released by Stripe (one capture per
    PaymentIntent). Capturing a captured payment returns it unchanged."""
    with transaction.atomic():
        order, payment = payment_lock(payment_id=payment_id, seller_id=seller_id)
        if payment.status != PaymentState.AUTHORIZED:
            if payment.status in (PaymentState.CAPTURED, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED):
                return payment
            raise InvalidPaymentState(f"A {payment.status} payment cannot be captured.")
        if order.lifecycle == Lifecycle.CANCELLED:
            raise InvalidPaymentState("The order is cancelled: its payment is voided, not captured.")
        wanted = (
            amount
            if amount is not None
            else capture_amount(order_total=order.total, authorized=payment.amount_authorized)
        )
        if str(wanted.currency) != payment.currency or not (0 < wanted.amount <= payment.amount_authorized.amount):
            raise InvalidPaymentState(
                f"A capture must be more than nothing and at most {money_text(payment.amount_authorized)} "
                f"{payment.currency}.",
                details={"amount": money_text(wanted), "authorized": money_text(payment.amount_authorized)},
            )
        if payment.capture_requested_at is None:
            payment.capture_requested_at = timezone.now()
            payment.save(update_fields=["capture_requested_at", "updated_at"])
    units = to_minor_units(wanted)
    try:
        intent = gateway.intent_capture(
            payment.stripe_payment_intent_id,
            account=payment_credentials(payment),
            amount=units,
            idempotency_key=f"waybill-capture-{payment.pk}-{units}",
        )
    except PaymentProviderRefused as refused:
        intent = _settled_elsewhere(payment, refused)
    return intent_apply(intent=intent, actor=actor)


def payment_void(*, payment_id: int, actor: Actor, seller_id: int | None = None, reason: str = "") -> Payment:
    """Release an authorization that will not be captured (the order was cancelled).
    Voiding a voided payment returns it unchanged."""
    with transaction.atomic():
        _order, payment = payment_lock(payment_id=payment_id, seller_id=seller_id)
        if payment.status == PaymentState.VOIDED:
            return payment
        if payment.status != PaymentState.AUTHORIZED:
            raise InvalidPaymentState(f"A {payment.status} payment cannot be voided; refund it instead.")
        if payment.void_requested_at is None:
            payment.void_requested_at = timezone.now()
            payment.save(update_fields=["void_requested_at", "updated_at"])
    try:
        intent = gateway.intent_cancel(
            payment.stripe_payment_intent_id,
            account=payment_credentials(payment),
            idempotency_key=f"waybill-void-{payment.pk}",
        )
    except PaymentProviderRefused as refused:
        intent = _settled_elsewhere(payment, refused)
    return intent_apply(intent=intent, actor=actor, reason=reason)


def _settled_elsewhere(payment: Payment, refused: PaymentProviderRefused) -> IntentSnapshot:
    """Stripe refused the capture or void: the intent may have been captured or
    cancelled meanwhile (the dashboard, an expired authorization). Its state then is
    the answer; otherwise the refusal stands."""
    intent = gateway.intent_retrieve(payment.stripe_payment_intent_id, account=payment_credentials(payment))
    if intent is None or intent.status not in ("succeeded", "canceled"):
        raise refused
    return intent


def intent_apply(*, intent: IntentSnapshot, actor: Actor, reason: str = "") -> Payment | None:
    """Bring the payment of ``intent`` in line with it: captured or voided at Stripe
    means captured or voided here, once. Anything else changes nothing."""
    payment_id = Payment.objects.filter(stripe_payment_intent_id=intent.id).values_list("pk", flat=True).first()
    if payment_id is None:
        return None
    with transaction.atomic():
        order, payment = payment_lock(payment_id=payment_id)
        if payment.status != PaymentState.AUTHORIZED:
            return payment
        now = timezone.now()
        if intent.status == "succeeded":
            payment.amount_captured = from_minor_units(intent.amount_received, payment.currency)
            payment.status = PaymentState.CAPTURED
            payment.captured_at = now
            payment.capture_requested_at = None
            payment.stripe_charge_id = intent.latest_charge or payment.stripe_charge_id
            payment.stripe_synced_at = now
            payment.save()
            released = payment.amount_authorized - payment.amount_captured
            if can_move(order, PaymentStatus.PAID):
                payment_status_move(
                    order,
                    to=PaymentStatus.PAID,
                    type=EventType.PAYMENT_CAPTURED,
                    actor=actor,
                    data={
                        "payment_id": payment.pk,
                        "payment_intent": intent.id,
                        "amount": money_text(payment.amount_captured),
                        "released": money_text(released),
                        "currency": payment.currency,
                    },
                )
            payment_captured_announce(payment)
            _over_capture_refund(order, payment)
        elif intent.status == "canceled":
            payment.status = PaymentState.VOIDED
            payment.voided_at = now
            payment.void_requested_at = None
            payment.capture_requested_at = None
            payment.stripe_synced_at = now
            payment.save()
            if can_move(order, PaymentStatus.VOIDED):
                payment_status_move(
                    order,
                    to=PaymentStatus.VOIDED,
                    type=EventType.PAYMENT_VOIDED,
                    actor=actor,
                    data={
                        "payment_id": payment.pk,
                        "payment_intent": intent.id,
                        "amount": money_text(payment.amount_authorized),
                        "currency": payment.currency,
                        "reason": reason or order.cancel_reason,
                    },
                )
        return payment


OVER_CAPTURE_REASON = "Captured more than the order now costs"


def _over_capture_refund(order, payment: Payment) -> None:
    """A capture that lands after the order changed (cancelled, or a line cancelled
    while the capture was on its way) took more than the order now costs: refund the
    difference, once per payment (keyed), in the same transaction that records the
    capture. The refund is sent to Stripe after commit."""
    owed = zero(payment.currency) if order.lifecycle == Lifecycle.CANCELLED else order.total
    excess = refundable(payment) - owed  # captured, less refunded or being refunded
    if excess.amount <= 0:
        return
    refund, _ = refund_request(
        seller_id=payment.seller_id,
        order_id=order.pk,
        data=RefundInput(
            amount=excess.amount, reason=OVER_CAPTURE_REASON, idempotency_key=f"over-capture:{payment.pk}"
        ),
        actor=SYSTEM,
    )
    if refund.status == RefundState.PENDING:
        transaction.on_commit(partial(refund_submit_task.delay, refund_id=refund.pk), robust=True)
