"""Refunds through Stripe, in two steps so no lock is held while Stripe is asked:
``refund_request`` writes a pending Refund (checked against what is left to refund,
under the payment's lock), ``refund_submit`` asks Stripe with the refund's own
idempotency key and applies the answer. A crash in between leaves a pending refund that
the sweep submits again with the same key, so Stripe refunds once."""

import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from core.exceptions import ValidationFailed
from core.money import from_minor_units, is_on_minor_unit_grid, to_minor_units
from core.outbox import outbox_record
from orders.locks import order_lock
from orders.models import EventType, Order
from orders.payments import gateway
from orders.payments.accounts import payment_credentials
from orders.payments.exceptions import (
    InvalidPaymentState,
    PaymentDeclined,
    PaymentProviderRefused,
    RefundExceedsCaptured,
    RefundKeyReused,
)
from orders.payments.models import Payment, PaymentState, Refund, RefundOrigin, RefundState
from orders.payments.services.common import can_move, money_text, payment_lock, payment_status_move
from orders.status import PaymentStatus

logger = logging.getLogger(__name__)
REFUNDABLE_STATES = (PaymentState.CAPTURED, PaymentState.PARTIALLY_REFUNDED)


@dataclass(frozen=True)
class RefundInput:
    amount: Decimal | None  # in the payment's currency; None: everything left to refund
    reason: str = ""
    idempotency_key: str = ""  # empty: a new refund every call
    fingerprint: str = ""


# Idempotency-key prefixes of the refunds Waybill makes to match a smaller order (a
# line cancelled, a capture that came late) or a cancelled one: invoicing credits what
# the change took off the invoice, from the change itself, whichever comes first.
ORDER_ADJUSTMENT_KEYS = ("line-cancel:", "over-capture:", "cancel:")


def refundable(payment: Payment) -> Money:
    """Captured, less what is refunded or being refunded."""
    pending = Refund.objects.filter(payment=payment, status=RefundState.PENDING).aggregate(total=Sum("amount"))
    in_flight = Money(pending["total"] or 0, payment.currency)
    return payment.amount_captured - payment.amount_refunded - in_flight


def refund_request(*, seller_id: int, order_id: int, data: RefundInput, actor: Actor) -> tuple[Refund, bool]:
    """Write a pending refund of the order's captured payment. Returns (refund,
    created); the same idempotency key with the same request returns the first refund."""
    key = data.idempotency_key or f"waybill:{uuid.uuid4()}"
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        existing = Refund.objects.filter(seller_id=seller_id, idempotency_key=key).first()
        if existing is not None:
            if existing.order_id != order.pk or existing.fingerprint != data.fingerprint:
                raise RefundKeyReused(details={"idempotency_key": key})
            return existing, False
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .filter(order=order, status__in=REFUNDABLE_STATES)
            .order_by("-pk")
            .first()
        )
        if payment is None:
            raise InvalidPaymentState("The order has no captured payment to refund.", details={"order_id": order.pk})
        left = refundable(payment)
        amount = Money(data.amount, payment.currency) if data.amount is not None else left
        _check_amount(amount, left=left, currency=payment.currency)
        try:
            with transaction.atomic():  # a savepoint: a twin request on another order may hold the key
                refund = Refund.objects.create(
                    seller_id=seller_id,
                    payment=payment,
                    order=order,
                    amount=amount,
                    reason=data.reason[:255],
                    status=RefundState.PENDING,
                    idempotency_key=key,
                    fingerprint=data.fingerprint,
                    actor_label=actor.label[:150],
                )
        except IntegrityError as exc:
            existing = Refund.objects.filter(seller_id=seller_id, idempotency_key=key).first()
            if existing is None or existing.order_id != order.pk or existing.fingerprint != data.fingerprint:
                raise RefundKeyReused(details={"idempotency_key": key}) from exc
            return existing, False
    return refund, True


def _check_amount(amount: Money, *, left: Money, currency: str) -> None:
    if amount.amount <= 0 and left.amount > 0:
        raise ValidationFailed(details={"amount": ["Must be more than zero."]})
    if not is_on_minor_unit_grid(amount.amount, currency):
        raise ValidationFailed(
            details={"amount": [f"{currency} has no amounts finer than {from_minor_units(1, currency).amount}."]}
        )
    if amount.amount <= 0 or amount > left:
        raise RefundExceedsCaptured(
            f"At most {money_text(left)} {currency} is left to refund.",
            details={"amount": money_text(amount), "refundable": money_text(left), "currency": currency},
        )


def refund_submit(*, refund_id: int, actor: Actor) -> Refund:
    """Ask Stripe for a pending refund and apply the answer. Stripe unreachable: the
    refund stays pending (the sweep retries it) and the error is raised. Stripe refusing:
    the refund fails, with Stripe's reason."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    if refund.status != RefundState.PENDING:
        return refund
    try:
        answer = gateway.refund_create(
            refund.payment.stripe_payment_intent_id,
            account=payment_credentials(refund.payment),
            amount=to_minor_units(refund.amount),
            reason=refund.reason,
            metadata={"waybill_refund_id": str(refund.pk), "waybill_order_id": str(refund.order_id)},
            idempotency_key=f"waybill-refund-{refund.pk}",
        )
    except (PaymentDeclined, PaymentProviderRefused) as exc:
        _refund_failed(refund_id=refund.pk, message=exc.message)
        raise
    if answer.status in ("failed", "canceled"):
        _refund_failed(refund_id=refund.pk, message=answer.failure_reason or f"Stripe: {answer.status}")
        raise PaymentProviderRefused(f"Stripe could not refund: {answer.failure_reason or answer.status}.")
    return refund_succeeded(refund_id=refund.pk, stripe_refund_id=answer.id, actor=actor)


def _refund_failed(*, refund_id: int, message: str) -> None:
    Refund.objects.filter(pk=refund_id, status=RefundState.PENDING).update(
        status=RefundState.FAILED, failure_message=message[:255], updated_at=timezone.now()
    )


def refund_succeeded(*, refund_id: int, stripe_refund_id: str, actor: Actor) -> Refund:
    """Count a refund Stripe made: the payment's refunded amount, the order's payment
    status, an event and ``payment.refunded``. Once: a refund already counted is
    returned as it is."""
    payment_id = Refund.objects.values_list("payment_id", flat=True).get(pk=refund_id)
    with transaction.atomic():
        order, payment = payment_lock(payment_id=payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund_id)
        if refund.status == RefundState.SUCCEEDED:
            return refund
        refund.status = RefundState.SUCCEEDED
        refund.stripe_refund_id = stripe_refund_id
        refund.succeeded_at = timezone.now()
        refund.failure_message = ""
        refund.save()
        _count(order, payment, refund, actor=actor)
    return refund


def refund_record_external(*, payment_id: int, amount: Money, stripe_refund_id: str, reason: str, actor: Actor):
    """A refund made in Stripe outside Waybill (the dashboard), counted like ours; the
    caller holds the payment's lock (a webhook's transaction)."""
    order, payment = payment_lock(payment_id=payment_id)
    refund = Refund.objects.create(
        seller_id=payment.seller_id,
        payment=payment,
        order=order,
        amount=amount,
        reason=reason[:255],
        status=RefundState.SUCCEEDED,
        origin=RefundOrigin.STRIPE,
        stripe_refund_id=stripe_refund_id,
        idempotency_key=f"stripe:{stripe_refund_id or uuid.uuid4()}",
        actor_label=actor.label[:150],
        succeeded_at=timezone.now(),
    )
    _count(order, payment, refund, actor=actor)
    return refund


def _count(order: Order, payment: Payment, refund: Refund, *, actor: Actor) -> None:
    payment.amount_refunded += refund.amount
    full = payment.amount_refunded >= payment.amount_captured
    payment.status = PaymentState.REFUNDED if full else PaymentState.PARTIALLY_REFUNDED
    payment.save(update_fields=["amount_refunded", "status", "updated_at"])
    to = PaymentStatus.REFUNDED if full else PaymentStatus.PARTIALLY_REFUNDED
    data = {
        "payment_id": payment.pk,
        "refund_id": refund.pk,
        "stripe_refund_id": refund.stripe_refund_id,
        "amount": money_text(refund.amount),
        "refunded_total": money_text(payment.amount_refunded),
        "currency": payment.currency,
        "reason": refund.reason,
    }
    if can_move(order, to):
        payment_status_move(order, to=to, type=EventType.PAYMENT_REFUNDED, actor=actor, data=data)
    else:
        logger.warning(
            "Order %s: payment status %s, refund %s counted without a status change",
            order.pk,
            order.payment_status,
            refund.pk,
        )
    outbox_record(
        topic="payment.refunded",
        seller_id=payment.seller_id,
        aggregate_type="payment",
        aggregate_id=payment.pk,
        payload={
            "order_id": order.pk,
            "refund_id": refund.pk,
            "amount": money_text(refund.amount),
            "currency": payment.currency,
            "reason": refund.reason,
            # Gives back money for units the order no longer has (a line cancelled, a
            # capture that came late): an invoice issued after it already leaves them out.
            "adjusts_order": refund.idempotency_key.startswith(ORDER_ADJUSTMENT_KEYS),
        },
    )


def payment_refund(*, seller_id: int, order_id: int, data: RefundInput, actor: Actor) -> tuple[Refund, bool]:
    """Request and submit at once (the API, the admin). A replayed request whose first
    attempt is still pending is submitted again, with the same Stripe idempotency key."""
    refund, created = refund_request(seller_id=seller_id, order_id=order_id, data=data, actor=actor)
    if refund.status == RefundState.PENDING:
        refund = refund_submit(refund_id=refund.pk, actor=actor)
    return refund, created
