"""Outbox handlers: what other apps' events mean for invoices. Each runs after the
event's transaction committed, in the relay task, and is safe to run twice (one
invoice per order, one credit note per refund, one stored PDF per document)."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from djmoney.money import Money

from core.actor import Actor
from core.models import OutboxEvent
from core.money import zero
from orders.invoicing.exceptions import InvalidRefund
from orders.invoicing.models import Invoice
from orders.invoicing.selectors import credit_note_get, invoice_get
from orders.invoicing.services import (
    credit_note_issue,
    credit_note_pdf,
    invoice_issue_when_due,
    invoice_left_to_credit,
    invoice_pdf,
)
from orders.locks import order_lock
from orders.models import Order
from orders.status import Lifecycle
from sellers.models import InvoiceTrigger

ACTOR = Actor.system("invoicing")


def _seller_and_order(event: OutboxEvent) -> tuple[int, int]:
    order_id = int(event.payload["order_id"])
    seller_id = event.seller_id
    if seller_id is None:
        seller_id = Order.objects.values_list("seller_id", flat=True).get(pk=order_id)
    return seller_id, order_id


def on_shipment_shipped(event: OutboxEvent) -> None:
    """The first shipment issues the whole order's invoice when the seller invoices on
    shipping; later shipments find it issued."""
    seller_id, order_id = _seller_and_order(event)
    invoice_issue_when_due(seller_id=seller_id, order_id=order_id, occasion=InvoiceTrigger.SHIPPED, actor=ACTOR)


def on_payment_captured(event: OutboxEvent) -> None:
    seller_id, order_id = _seller_and_order(event)
    invoice_issue_when_due(seller_id=seller_id, order_id=order_id, occasion=InvoiceTrigger.PAID, actor=ACTOR)


def refund_amount(payload: dict) -> Money:
    """The refunded amount, tax included: a decimal string in major units, as Waybill
    writes money everywhere ("12.30"), with the currency beside it."""
    amount, currency = payload.get("amount"), payload.get("currency")
    if isinstance(amount, dict):
        amount, currency = amount.get("amount"), amount.get("currency", currency)
    if not isinstance(amount, str) or not isinstance(currency, str):
        raise InvalidRefund(
            f"A refund event needs its amount as a decimal string and a currency code, not {amount!r} {currency!r}.",
            details={"amount": ["Expected a decimal string and a currency code."]},
        )
    try:
        return Money(Decimal(amount), currency.upper())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidRefund(f"Not an amount: {amount!r}.", details={"amount": [f"Not an amount: {amount!r}."]}) from exc


def on_payment_refunded(event: OutboxEvent) -> None:
    """Every refund gets its credit note (and the order its invoice first, if it has
    none), except money given back because the order changed (a line cancelled, a
    capture that took more than the order came to cost): that credits only what the
    invoice bills beyond the order, see ``_credit_what_the_invoice_overstates``."""
    seller_id, order_id = _seller_and_order(event)
    reference = str(event.payload.get("refund_id") or event.event_id)
    reason = str(event.payload.get("reason") or "")
    if event.payload.get("adjusts_order"):
        _credit_what_the_invoice_overstates(
            seller_id=seller_id,
            order_id=order_id,
            up_to=refund_amount(event.payload),
            reference=reference,
            reason=reason,
        )
        return
    credit_note_issue(
        seller_id=seller_id,
        order_id=order_id,
        amount=refund_amount(event.payload),
        refund_reference=reference,
        reason=reason,
        actor=ACTOR,
    )


def on_line_cancelled(event: OutboxEvent) -> None:
    """Units cancelled after the order's invoice was issued (a backorder given up once
    the rest shipped) come off it in a credit note, whether or not money goes back."""
    if event.payload.get("change") != "line_cancelled":
        return
    seller_id, order_id = _seller_and_order(event)
    currency = Order.objects.values_list("currency", flat=True).get(pk=order_id)
    _credit_what_the_invoice_overstates(
        seller_id=seller_id,
        order_id=order_id,
        up_to=Money(Decimal(str(event.payload.get("amount_cancelled") or 0)), currency),
        reference=f"line-cancel:{event.event_id}",
        reason="Units cancelled after invoicing",
    )


def on_order_cancelled(event: OutboxEvent) -> None:
    """An order cancelled after its invoice was issued (by hand, or on a capture) owes
    nothing: the invoice, less its credit notes, is credited in full, whether money
    goes back through Waybill (the cancel's refund credits nothing more), outside it
    (a marketplace refunds the buyer) or not at all."""
    seller_id, order_id = _seller_and_order(event)
    cancel_reason = str(event.payload.get("reason") or "")
    _credit_what_the_invoice_overstates(
        seller_id=seller_id,
        order_id=order_id,
        up_to=None,
        reference=f"order-cancel:{event.event_id}",
        reason=f"Order cancelled: {cancel_reason}" if cancel_reason else "Order cancelled",
    )


def _credit_what_the_invoice_overstates(
    *, seller_id: int, order_id: int, up_to: Money | None, reference: str, reason: str
) -> None:
    """A credit note for what the order's invoice, less its credit notes, bills beyond
    what the order costs now, at most ``up_to`` (None: all of it); nothing without an
    invoice (one drawn later leaves the change out already, and a cancelled order gets
    none). One change can arrive here twice (a line
    cancel, then the refund of its money; a capture that landed after the cancel, then
    its over-capture refund), in any order and in any relay worker: under the order's
    lock, the first credits it and the second finds nothing left to credit. So do an
    order's cancellation and the refund of its payment."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        invoice = Invoice.objects.filter(order_id=order_id).first()
        if invoice is None:
            return
        owed = zero(invoice.currency) if order.lifecycle == Lifecycle.CANCELLED else order.total
        amount = invoice_left_to_credit(invoice) - owed
        if up_to is not None:
            amount = min(up_to, amount)
        if amount.amount <= 0:
            return
        credit_note_issue(
            seller_id=seller_id,
            order_id=order_id,
            amount=amount,
            refund_reference=reference,
            reason=reason,
            actor=ACTOR,
        )


def on_invoice_issued(event: OutboxEvent) -> None:
    """Render the PDF once, off the issuing transaction, and keep it."""
    invoice_pdf(invoice=invoice_get(seller_id=event.seller_id, invoice_id=int(event.aggregate_id)))


def on_credit_note_issued(event: OutboxEvent) -> None:
    credit_note_pdf(credit_note=credit_note_get(seller_id=event.seller_id, credit_note_id=int(event.aggregate_id)))
