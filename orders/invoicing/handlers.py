"""Outbox handlers: what other apps' events mean for invoices. Each runs after the
event's transaction committed, in the relay task, and is safe to run twice (one
invoice per order, one credit note per refund, one stored PDF per document)."""

from decimal import Decimal, InvalidOperation

from djmoney.money import Money

from core.actor import Actor
from core.models import OutboxEvent
from core.money import zero
from orders.invoicing.exceptions import InvalidRefund
from orders.invoicing.models import CreditNote, Invoice
from orders.invoicing.selectors import credit_note_get, invoice_get
from orders.invoicing.services import credit_note_issue, credit_note_pdf, invoice_issue_when_due, invoice_pdf
from orders.models import Order
from orders.payments.models import Payment, PaymentState
from sellers.models import InvoiceTrigger

ACTOR = Actor.system("invoicing")
# A payment that ever held captured money.
CAPTURED_STATES = (PaymentState.CAPTURED, PaymentState.PARTIALLY_REFUNDED, PaymentState.REFUNDED)


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
    none), except money given back for units the order no longer has while it has no
    invoice yet: the invoice, when issued, leaves those units out already, so a credit
    note would count them twice."""
    seller_id, order_id = _seller_and_order(event)
    if event.payload.get("adjusts_order") and not Invoice.objects.filter(order_id=order_id).exists():
        return
    credit_note_issue(
        seller_id=seller_id,
        order_id=order_id,
        amount=refund_amount(event.payload),
        refund_reference=str(event.payload.get("refund_id") or event.event_id),
        reason=str(event.payload.get("reason") or ""),
        actor=ACTOR,
    )


def on_line_cancelled(event: OutboxEvent) -> None:
    """Units cancelled after the order's invoice was issued (a backorder given up once
    the rest shipped) come off it in a credit note, unless a captured payment gives
    the money back: that refund brings its own credit note (``on_payment_refunded``).
    An unpaid order, an authorization (the capture takes the lower total) or one paid
    on a marketplace gets the credit note here."""
    if event.payload.get("change") != "line_cancelled":
        return
    seller_id, order_id = _seller_and_order(event)
    if not Invoice.objects.filter(order_id=order_id).exists():
        return  # the invoice, when issued, leaves the cancelled units out
    if Payment.objects.filter(order_id=order_id, status__in=CAPTURED_STATES).exists():
        return  # money was taken: refunds credit it (a handler run late must not add to them)
    invoice = Invoice.objects.get(order_id=order_id)
    credited = sum((note.total for note in CreditNote.objects.filter(invoice=invoice)), zero(invoice.currency))
    cancelled = Money(Decimal(str(event.payload.get("amount_cancelled") or 0)), invoice.currency)
    amount = min(cancelled, invoice.total - credited)
    if amount.amount <= 0:
        return
    credit_note_issue(
        seller_id=seller_id,
        order_id=order_id,
        amount=amount,
        refund_reference=f"line-cancel:{event.event_id}",
        reason="Units cancelled after invoicing",
        actor=ACTOR,
    )


def on_invoice_issued(event: OutboxEvent) -> None:
    """Render the PDF once, off the issuing transaction, and keep it."""
    invoice_pdf(invoice=invoice_get(seller_id=event.seller_id, invoice_id=int(event.aggregate_id)))


def on_credit_note_issued(event: OutboxEvent) -> None:
    credit_note_pdf(credit_note=credit_note_get(seller_id=event.seller_id, credit_note_id=int(event.aggregate_id)))
