"""An order placed with a Stripe PaymentIntent: checked with Stripe before any lock is
taken (``before_write``), recorded as an authorized Payment in the order's own
transaction (``then``)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from core.actor import Actor
from core.exceptions import ValidationFailed
from core.fastsql import send_held
from core.money import from_minor_units, to_minor_units
from orders.models import EventType, Order, OrderLine
from orders.payments import gateway
from orders.payments.accounts import stripe_credentials
from orders.payments.exceptions import PaymentIntentInUse, PaymentIntentMismatch
from orders.payments.gateway import IntentSnapshot
from orders.payments.models import Payment, PaymentState
from orders.payments.services.common import money_text, payment_status_move
from orders.status import PaymentStatus

SELLER_METADATA_KEY = "waybill_seller"
EXTERNAL_ID_METADATA_KEY = "waybill_external_id"


def intent_problems(
    intent: IntentSnapshot, *, amount: int, currency: str, seller_slug: str, external_id: str
) -> dict[str, list[str]]:
    """Why ``intent`` does not pay for the order (empty: it does). ``amount`` is the
    order total in the currency's minor unit."""
    problems: dict[str, list[str]] = {}
    if intent.status != "requires_capture":
        problems["status"] = [
            f"The PaymentIntent is {intent.status}; it must be authorized and not captured (requires_capture)."
        ]
    if intent.capture_method != "manual":
        problems["capture_method"] = [f"The PaymentIntent captures {intent.capture_method}; it must be manual."]
    if intent.currency != currency:
        problems["currency"] = [f"The PaymentIntent is in {intent.currency}; the order is in {currency}."]
    elif intent.amount != amount:
        problems["amount"] = [
            f"The PaymentIntent is for {money_text(from_minor_units(intent.amount, currency))} {currency} "
            f"({intent.amount} in minor units); the order totals "
            f"{money_text(from_minor_units(amount, currency))} {currency} ({amount})."
        ]
    elif intent.status == "requires_capture" and intent.amount_capturable != amount:
        problems["amount_capturable"] = [f"Only {intent.amount_capturable} of {amount} can be captured."]
    if intent.metadata.get(SELLER_METADATA_KEY) != seller_slug:
        problems[f"metadata.{SELLER_METADATA_KEY}"] = [
            f"The PaymentIntent's metadata must name this seller: {SELLER_METADATA_KEY}={seller_slug}."
        ]
    claimed = intent.metadata.get(EXTERNAL_ID_METADATA_KEY)
    if claimed is not None and claimed != external_id:
        problems[f"metadata.{EXTERNAL_ID_METADATA_KEY}"] = [
            f"The PaymentIntent is for order {claimed!r}; this order's external_id is {external_id!r}."
        ]
    return problems


@dataclass
class PaymentIntentCheck:
    """``verify`` goes in ``order_place(before_write=…)``, ``record`` in its ``then``."""

    intent_id: str
    actor: Actor
    verified: IntentSnapshot | None = field(default=None, init=False)
    on_own_account: bool = field(default=False, init=False)

    def verify(self, order: Order, lines: list[OrderLine]) -> None:
        if order.payment_status == PaymentStatus.PAID_EXTERNALLY:
            raise ValidationFailed(details={"payment_intent": ["An order paid externally takes no payment_intent."]})
        if not self.intent_id.startswith("pi_"):
            raise ValidationFailed(details={"payment_intent": ["Not a PaymentIntent id (pi_…)."]})
        if Payment.objects.filter(stripe_payment_intent_id=self.intent_id).exists():
            raise PaymentIntentInUse(details={"payment_intent": self.intent_id})
        currency = str(order.total.currency)
        account = stripe_credentials(seller_id=order.seller_id)
        intent = gateway.intent_retrieve(self.intent_id, account=account)
        if intent is None:
            raise PaymentIntentMismatch(
                "Stripe does not know this payment_intent.", details={"payment_intent": ["No such PaymentIntent."]}
            )
        problems = intent_problems(
            intent,
            amount=to_minor_units(order.total),
            currency=currency,
            seller_slug=order.seller.slug,
            external_id=order.external_id,
        )
        if problems:
            raise PaymentIntentMismatch(details=problems)
        self.verified = intent
        self.on_own_account = account.own

    def record(self, order: Order) -> None:
        intent = self.verified
        if intent is None:  # verify refused, or was not run: nothing to record
            raise PaymentIntentMismatch(details={"payment_intent": ["Not verified with Stripe."]})
        amount = from_minor_units(intent.amount, intent.currency)
        zero = from_minor_units(0, intent.currency)
        # The order's held rows (core.fastsql.deferred_writes) go first, so that their
        # errors (a duplicate external_id) are not taken for this intent's below.
        send_held()
        try:
            # A savepoint: a concurrent order with the same intent loses here with a 409
            # instead of breaking the order's transaction.
            with transaction.atomic():
                payment = Payment.objects.create(
                    seller_id=order.seller_id,
                    order=order,
                    stripe_payment_intent_id=intent.id,
                    stripe_charge_id=intent.latest_charge,
                    on_own_account=self.on_own_account,
                    status=PaymentState.AUTHORIZED,
                    amount_authorized=amount,
                    amount_captured=zero,
                    amount_refunded=zero,
                    stripe_synced_at=intent.observed_at,
                )
        except IntegrityError as exc:
            raise PaymentIntentInUse(details={"payment_intent": intent.id}) from exc
        payment_status_move(
            order,
            to=PaymentStatus.AUTHORIZED,
            type=EventType.PAYMENT_AUTHORIZED,
            actor=self.actor,
            data={
                "payment_id": payment.pk,
                "payment_intent": intent.id,
                "amount": money_text(amount),
                "currency": intent.currency,
            },
        )


def payment_checks(*, payment_intent: str, actor: Actor) -> tuple[list[Callable], Callable[[Order], None] | None]:
    """What ``order_place`` needs for an order's payment: (before_write, then)."""
    if not payment_intent:
        return [], None
    check = PaymentIntentCheck(intent_id=payment_intent, actor=actor)
    return [check.verify], check.record
