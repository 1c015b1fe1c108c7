"""Stripe's webhook events: verified by signature, stored by event id, applied once.

Storing and applying are separate: an event is stored as soon as its signature
verifies (so a redelivery is recognised even while the first is being applied), then
applied under its row's lock with ``processed_at`` set in the same transaction. A
failure leaves it stored and unprocessed; a redelivery or the sweep applies it later.

Out-of-order delivery is harmless because every handler compares with the state it
finds: a capture or void applies only to an authorized payment, a refund count only
grows (``amount_refunded`` on the charge is cumulative), and a failure notice about an
older charge than the payment's is stale."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from djmoney.money import Money

from core.money import from_minor_units
from orders.events import order_event
from orders.models import EventType, HoldKind
from orders.payments import gateway
from orders.payments.accounts import install_credentials, stripe_credentials
from orders.payments.exceptions import WebhookPayloadInvalid
from orders.payments.gateway import IntentSnapshot
from orders.payments.models import Payment, PaymentState, Refund, RefundState, StripeEvent
from orders.payments.services.common import STRIPE, can_move, money_text, payment_lock, payment_status_move
from orders.payments.services.intents import intent_apply
from orders.payments.services.refunds import refund_record_external, refund_succeeded
from orders.services.holds import order_hold_place
from orders.status import PaymentStatus

logger = logging.getLogger(__name__)

EVENT_ID_MAX = StripeEvent._meta.get_field("event_id").max_length
EVENT_TYPE_MAX = StripeEvent._meta.get_field("type").max_length
LATEST_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z, the last second a datetime holds
PROCESSED = "processed"
DUPLICATE = "duplicate"
IGNORED = "ignored"
STALE = "stale"
UNKNOWN_PAYMENT = "unknown_payment"
FAILED = "failed"


def stripe_webhook_receive(*, payload: bytes, signature: str, seller_id: int | None = None) -> str:
    """Verify, store and apply one delivery; returns the outcome. A bad signature or
    body raises (the view answers 400) and writes nothing.

    ``seller_id``: the delivery came to a seller's own endpoint, so it is verified with
    that seller's signing secret and may only touch that seller's payments (a seller
    knows its own secret and could sign anything with it)."""
    account = stripe_credentials(seller_id=seller_id) if seller_id is not None else install_credentials()
    gateway.event_verify(payload, signature, account=account)
    event = _parsed(payload)
    try:
        with transaction.atomic():
            stored, _ = StripeEvent.objects.get_or_create(
                event_id=event["id"],
                defaults={
                    "type": event["type"],
                    "stripe_created": datetime.fromtimestamp(event["created"], tz=UTC),
                    "payload": event,
                    "seller_id": seller_id,
                },
            )
    except IntegrityError:  # a concurrent delivery of the same event stored it first
        stored = StripeEvent.objects.get(event_id=event["id"])
    if stored.processed_at is not None:
        return DUPLICATE
    return stripe_event_process(stored_id=stored.pk)


def _parsed(payload: bytes) -> dict:
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise WebhookPayloadInvalid() from exc
    valid = (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and 0 < len(event["id"]) <= EVENT_ID_MAX
        and isinstance(event.get("type"), str)
        and len(event["type"]) <= EVENT_TYPE_MAX
        and isinstance(event.get("created"), int)
        and 0 <= event["created"] <= LATEST_TIMESTAMP
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
    )
    if not valid:
        raise WebhookPayloadInvalid()
    return event


def stripe_event_process(*, stored_id: int) -> str:
    """Apply a stored event unless it was already applied. Never raises: a failure is
    logged and kept on the event for the next attempt."""
    try:
        with transaction.atomic():
            stored = StripeEvent.objects.select_for_update().get(pk=stored_id)
            if stored.processed_at is not None:
                return DUPLICATE
            handler = HANDLERS.get(stored.type, _ignored)
            outcome, payment = handler(stored.payload["data"]["object"], stored)
            stored.processed_at = timezone.now()
            stored.outcome = outcome
            stored.attempts += 1
            stored.last_error = ""
            if payment is not None:
                stored.payment_id, stored.seller_id = payment.pk, payment.seller_id
            stored.save()
        return outcome
    except Exception as exc:
        logger.exception("Stripe event %s could not be applied", stored_id)
        StripeEvent.objects.filter(pk=stored_id).update(attempts=F("attempts") + 1, last_error=repr(exc)[:4000])
        return FAILED


Outcome = tuple[str, Payment | None]


def _ignored(obj: dict, stored: StripeEvent) -> Outcome:
    return IGNORED, None


def _payment_of(*, intent_id: str | None, charge_id: str | None, stored: StripeEvent) -> Payment | None:
    payment = None
    payments = Payment.objects.all()
    if stored.seller_id is not None:  # came to a seller's own endpoint
        payments = payments.filter(seller_id=stored.seller_id)
    if intent_id:
        payment = payments.filter(stripe_payment_intent_id=intent_id).first()
    if payment is None and charge_id:
        payment = payments.filter(stripe_charge_id=charge_id).first()
    if payment is None:
        logger.info("Stripe event %s (%s) is for no known payment", stored.event_id, stored.type)
    return payment


def _intent_settled(obj: dict, stored: StripeEvent) -> Outcome:
    """payment_intent.succeeded / .canceled: captured or voided at Stripe (by us, by
    the dashboard, or an authorization that expired)."""
    payment = _payment_of(intent_id=obj.get("id"), charge_id=None, stored=stored)
    if payment is None:
        return UNKNOWN_PAYMENT, None
    if payment.status != PaymentState.AUTHORIZED:
        return STALE, payment
    payment = intent_apply(intent=IntentSnapshot.of(obj), actor=STRIPE)
    if obj.get("status") == "canceled":
        # Voided while the order lives on (an authorization that expired, a cancel in
        # the dashboard): nothing pays for it any more. A cancelled order is not held.
        _hold(payment, kind=HoldKind.PAYMENT_FAILED, reason="The payment authorization was canceled at Stripe")
    return PROCESSED, payment


def _intent_failed(obj: dict, stored: StripeEvent) -> Outcome:
    payment = _payment_of(intent_id=obj.get("id"), charge_id=None, stored=stored)
    if payment is None:
        return UNKNOWN_PAYMENT, None
    error = obj.get("last_payment_error") or {}
    failed_charge = obj.get("latest_charge") or error.get("charge") or ""
    # A failed attempt before the one that authorized (a first card declined) arrives
    # late: it names another charge than the payment's.
    if payment.status != PaymentState.AUTHORIZED or (
        payment.stripe_charge_id and failed_charge != payment.stripe_charge_id
    ):
        return STALE, payment
    with transaction.atomic():
        order, payment = payment_lock(payment_id=payment.pk)
        message = (error.get("message") or "The payment failed.")[:255]
        payment.status = PaymentState.FAILED
        payment.failure_message = message
        payment.stripe_synced_at = timezone.now()
        payment.save(update_fields=["status", "failure_message", "stripe_synced_at", "updated_at"])
        if can_move(order, PaymentStatus.FAILED):
            payment_status_move(
                order,
                to=PaymentStatus.FAILED,
                type=EventType.PAYMENT_FAILED,
                actor=STRIPE,
                data={"payment_id": payment.pk, "payment_intent": payment.stripe_payment_intent_id, "message": message},
            )
        _hold(payment, kind=HoldKind.PAYMENT_FAILED, reason=f"Payment failed: {message}")
    return PROCESSED, payment


def _charge_refunded(obj: dict, stored: StripeEvent) -> Outcome:
    """Count refunds Stripe reports on the charge: ours whose answer we never got, and
    those made in the dashboard. ``amount_refunded`` is cumulative, so an older event
    arriving late finds nothing new."""
    payment = _payment_of(intent_id=obj.get("payment_intent"), charge_id=obj.get("id"), stored=stored)
    if payment is None:
        return UNKNOWN_PAYMENT, None
    listed = ((obj.get("refunds") or {}).get("data")) or []
    for refund in listed:
        ours = (refund.get("metadata") or {}).get("waybill_refund_id", "")
        answered = refund.get("status") in ("succeeded", "pending")
        if (
            answered
            and ours.isdigit()
            and Refund.objects.filter(pk=int(ours), payment=payment, status=RefundState.PENDING).exists()
        ):
            refund_succeeded(refund_id=int(ours), stripe_refund_id=refund["id"], actor=STRIPE)
    with transaction.atomic():
        _order, payment = payment_lock(payment_id=payment.pk)
        reported = from_minor_units(int(obj.get("amount_refunded") or 0), payment.currency)
        # Only what Stripe confirmed: a refund of ours still pending is not at Stripe (the
        # loop above marked those it lists), so the difference was made elsewhere; the
        # pending one, submitted later, is then refused and marked failed.
        counted = Refund.objects.filter(payment=payment, status=RefundState.SUCCEEDED)
        known = Money(counted.aggregate(total=Sum("amount"))["total"] or 0, payment.currency)
        if reported.amount <= known.amount:
            return STALE, payment
        known_ids = set(
            Refund.objects.filter(payment=payment)
            .exclude(stripe_refund_id="")
            .values_list("stripe_refund_id", flat=True)
        )
        newest = next((r for r in listed if r.get("id") not in known_ids), {})
        refund_record_external(
            payment_id=payment.pk,
            amount=reported - known,
            stripe_refund_id=newest.get("id", ""),
            reason=f"Refunded in Stripe ({newest.get('reason') or 'no reason given'})",
            actor=STRIPE,
        )
    return PROCESSED, payment


def _dispute_created(obj: dict, stored: StripeEvent) -> Outcome:
    payment = _payment_of(intent_id=obj.get("payment_intent"), charge_id=obj.get("charge"), stored=stored)
    if payment is None:
        return UNKNOWN_PAYMENT, None
    reason = str(obj.get("reason") or "general")
    with transaction.atomic():
        order, payment = payment_lock(payment_id=payment.pk)
        payment.dispute_reason = reason[:64]
        payment.disputed_at = timezone.now()
        payment.save(update_fields=["dispute_reason", "disputed_at", "updated_at"])
        amount = from_minor_units(int(obj.get("amount") or 0), payment.currency)
        data = {
            "payment_id": payment.pk,
            "dispute": obj.get("id", ""),
            "reason": reason,
            "status": obj.get("status", ""),
            "amount": money_text(amount),
            "currency": payment.currency,
        }
        order_event(order, EventType.DISPUTE_OPENED, actor=STRIPE, data=data).save()
        order_hold_place(
            seller_id=order.seller_id,
            order_id=order.pk,
            kind=HoldKind.DISPUTE,
            reason=f"Payment disputed: {reason}",
            actor=STRIPE,
            details=data,
        )
    return PROCESSED, payment


def _hold(payment: Payment, *, kind: str, reason: str) -> None:
    order_hold_place(seller_id=payment.seller_id, order_id=payment.order_id, kind=kind, reason=reason, actor=STRIPE)


HANDLERS: dict[str, Callable[[dict, StripeEvent], Outcome]] = {
    "payment_intent.succeeded": _intent_settled,
    "payment_intent.canceled": _intent_settled,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
}


def stripe_events_pending(*, limit: int = 200) -> list[int]:
    older = timezone.now() - timezone.timedelta(minutes=1)
    return list(
        StripeEvent.objects.filter(processed_at__isnull=True, received_at__lt=older, attempts__lt=20)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
