"""What every payment service shares: locking an order's payment in a fixed order
(order row first, then payment, as every order service locks the order first) and
moving the order's payment status along ``PAYMENT_TRANSITIONS`` with its event."""

from djmoney.money import Money

from core.actor import Actor
from core.money import round_money
from core.outbox import outbox_record
from orders.events import order_announce, order_event
from orders.exceptions import InvalidTransition
from orders.locks import order_lock
from orders.models import EventType, Order
from orders.payments.exceptions import PaymentNotFound
from orders.payments.models import Payment
from orders.status import PAYMENT_TRANSITIONS

SYSTEM = Actor.system("payments")
STRIPE = Actor.system("stripe")


def payment_lock(*, payment_id: int, seller_id: int | None = None) -> tuple[Order, Payment]:
    """The payment and its order, both locked until the caller's transaction ends."""
    row = Payment.objects.filter(pk=payment_id).values("seller_id", "order_id").first()
    if row is None or (seller_id is not None and row["seller_id"] != seller_id):
        raise PaymentNotFound()
    order = order_lock(seller_id=row["seller_id"], order_id=row["order_id"])
    payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment_id)
    return order, payment


def can_move(order: Order, to: str) -> bool:
    return to == order.payment_status or to in PAYMENT_TRANSITIONS[order.payment_status]


def payment_status_move(order: Order, *, to: str, type: EventType, actor: Actor, data: dict) -> None:
    """Set the order's payment status (a legal step only) and record ``type`` with the
    before/after and ``data``; storefronts hear of it as ``order.updated``."""
    before = order.payment_status
    if not can_move(order, to):
        raise InvalidTransition(
            current=before, requested=to, message=f"An order whose payment is {before} cannot become {to}."
        )
    if to != before:
        order.payment_status = to
        order.save(update_fields=["payment_status", "updated_at"])
    order_event(order, type, actor=actor, data={"payment_status": {"before": before, "after": to}, **data}).save()
    if to != before:
        order_announce(order, "order.updated", change="payment_status", payment_status=to)


def money_text(money: Money) -> str:
    return str(round_money(money).amount)


def payment_captured_announce(payment: Payment) -> None:
    outbox_record(
        topic="payment.captured",
        seller_id=payment.seller_id,
        aggregate_type="payment",
        aggregate_id=payment.pk,
        payload={
            "order_id": payment.order_id,
            "payment_id": payment.pk,
            "amount": money_text(payment.amount_captured),
            "currency": payment.currency,
        },
    )
