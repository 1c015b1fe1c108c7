"""Issuing invoices and credit notes.

Each issue runs in one transaction: lock the order (so two requests for one order
queue up and the second finds the first's invoice), build the document from the order,
take the seller's next number as late as possible (the sequence row stays locked until
commit, which is what keeps the numbers gap-free), write the document, its lines and
tax summary, an order event and an outbox event. Lock order is always: order, invoice
sequence, credit note sequence.
"""

import hashlib
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from core.money import is_on_minor_unit_grid, round_money, zero
from core.outbox import outbox_record
from orders.events import order_event
from orders.invoicing.exceptions import CreditExceedsInvoice, InvalidRefund, InvoiceNotAllowed
from orders.invoicing.figures import (
    DocumentDraft,
    TaxRateTotal,
    credit_note_draft,
    invoice_draft,
)
from orders.invoicing.models import (
    CreditNote,
    CreditNoteLine,
    CreditNotePdf,
    CreditNoteTaxLine,
    DocumentTrigger,
    Invoice,
    InvoiceLine,
    InvoicePdf,
    InvoiceTaxLine,
)
from orders.invoicing.pdf import render_credit_note_pdf, render_invoice_pdf
from orders.invoicing.snapshots import order_figures, order_snapshot, seller_snapshot
from orders.locks import order_lock
from orders.models import EventType, Order, OrderLine
from orders.status import Lifecycle, PaymentStatus
from sellers.models import InvoiceTrigger, Seller
from sellers.services import sequence_next

INVOICE_SEQUENCE = "invoice"
CREDIT_NOTE_SEQUENCE = "credit_note"
INVOICE_PREFIX = "INV"
CREDIT_NOTE_PREFIX = "CN"


@dataclass(frozen=True)
class Issued:
    document: Invoice | CreditNote
    created: bool


def display_number(*, prefix: str, number: int, issued_at, seller_timezone: str) -> str:
    """``INV-2026-000042``: the year of issue for people; the number alone is the
    gap-free sequence (it does not restart each year)."""
    year = issued_at.astimezone(ZoneInfo(seller_timezone)).year
    return f"{prefix}-{year}-{number:06d}"


def invoice_due(*, seller: Seller, order: Order, occasion: str) -> bool:
    """Whether ``occasion`` ("shipped" or "paid") issues the order's invoice. An order
    paid on a marketplace is invoiced only if the seller wants it, and since no capture
    comes for it, a "paid" seller's invoice is issued when it ships."""
    paid_externally = order.payment_status == PaymentStatus.PAID_EXTERNALLY
    if paid_externally and not seller.invoice_marketplace_orders:
        return False
    if occasion == InvoiceTrigger.SHIPPED:
        return seller.invoice_trigger == InvoiceTrigger.SHIPPED or (
            paid_externally and seller.invoice_trigger == InvoiceTrigger.PAID
        )
    if occasion == InvoiceTrigger.PAID:
        return seller.invoice_trigger == InvoiceTrigger.PAID
    return False


def _line_fields(draft: DocumentDraft) -> list[dict]:
    return [
        {
            "position": position,
            "kind": line.kind,
            "sku": line.sku,
            "description": line.description[:255],
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_rate": line.tax_rate,
            "net_amount": line.net,
            "tax_amount": line.tax,
            "gross_amount": line.gross,
        }
        for position, line in enumerate(draft.lines, start=1)
    ]


def _tax_line_fields(draft: DocumentDraft) -> list[dict]:
    return [
        {"tax_rate": rate.tax_rate, "net_amount": rate.net, "tax_amount": rate.tax, "gross_amount": rate.gross}
        for rate in draft.tax_rates
    ]


def _amount(money: Money) -> str:
    return str(round_money(money).amount)


def _document_payload(order: Order, key: str, document) -> dict:
    return {
        "order_id": order.pk,
        "number": order.number,
        key: {
            "id": document.pk,
            "number": document.number,
            "display_number": document.display_number,
            "total": {"amount": _amount(document.total), "currency": str(document.total.currency)},
            "issued_at": document.issued_at.isoformat(),
        },
    }


def invoice_issue(*, seller_id: int, order_id: int, actor: Actor, trigger: str = DocumentTrigger.MANUAL) -> Issued:
    """The order's invoice: issued now, or the one it already has."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        return _invoice_issue_locked(order, seller=Seller.objects.get(pk=seller_id), actor=actor, trigger=trigger)


def invoice_issue_when_due(*, seller_id: int, order_id: int, occasion: str, actor: Actor) -> Issued | None:
    """Issue the invoice if the seller's settings say ``occasion`` is the moment; None if not."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        seller = Seller.objects.get(pk=seller_id)
        if not invoice_due(seller=seller, order=order, occasion=occasion):
            return None
        return _invoice_issue_locked(order, seller=seller, actor=actor, trigger=occasion)


def _invoice_issue_locked(order: Order, *, seller: Seller, actor: Actor, trigger: str) -> Issued:
    existing = Invoice.objects.filter(order_id=order.pk).first()
    if existing is not None:
        return Issued(document=existing, created=False)
    if order.lifecycle == Lifecycle.DRAFT:
        raise InvoiceNotAllowed("A draft order cannot be invoiced.", details={"lifecycle": order.lifecycle})
    if order.lifecycle == Lifecycle.CANCELLED and trigger != DocumentTrigger.REFUND:
        raise InvoiceNotAllowed("A cancelled order cannot be invoiced.", details={"lifecycle": order.lifecycle})
    lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("position"))
    draft = invoice_draft(order_figures(order=order, lines=lines, prices_include_tax=order.prices_include_tax))
    issued_at = timezone.now()
    number = sequence_next(seller_id=seller.pk, name=INVOICE_SEQUENCE)
    invoice = Invoice.objects.create(
        **seller_snapshot(seller),
        **order_snapshot(order),
        number=number,
        display_number=display_number(
            prefix=INVOICE_PREFIX, number=number, issued_at=issued_at, seller_timezone=seller.timezone
        ),
        issued_at=issued_at,
        actor_label=actor.label,
        trigger=trigger,
        prices_include_tax=order.prices_include_tax,
        net_total=draft.net_total,
        tax_total=draft.tax_total,
        total=draft.total,
    )
    InvoiceLine.objects.bulk_create([InvoiceLine(invoice=invoice, **fields) for fields in _line_fields(draft)])
    InvoiceTaxLine.objects.bulk_create(
        [InvoiceTaxLine(invoice=invoice, **fields) for fields in _tax_line_fields(draft)]
    )
    order_event(
        order,
        EventType.INVOICE_ISSUED,
        actor=actor,
        data={
            "invoice_id": invoice.pk,
            "number": invoice.display_number,
            "total": _amount(invoice.total),
            "currency": order.currency,
            "trigger": trigger,
        },
    ).save()
    outbox_record(
        topic="invoice.issued",
        seller_id=seller.pk,
        aggregate_type="invoice",
        aggregate_id=invoice.pk,
        payload=_document_payload(order, "invoice", invoice),
    )
    return Issued(document=invoice, created=True)


def invoice_left_to_credit(invoice: Invoice) -> Money:
    """The invoice's total less its credit notes."""
    credited = CreditNote.objects.filter(invoice_id=invoice.pk)
    return invoice.total - sum((note.total for note in credited), zero(invoice.currency))


def credit_note_issue(
    *, seller_id: int, order_id: int, amount: Money, refund_reference: str, actor: Actor, reason: str = ""
) -> Issued:
    """The credit note of one refund (tax included), against the order's invoice,
    which is issued first if the order has none yet. Once per refund reference."""
    refund_reference = refund_reference.strip()
    if not refund_reference:
        raise InvalidRefund(details={"refund_reference": ["A refund needs a reference."]})
    currency = str(amount.currency)
    if amount.amount <= 0 or not is_on_minor_unit_grid(amount.amount, currency):
        raise InvalidRefund(details={"amount": [f"A positive amount in whole {currency} minor units."]})
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        existing = CreditNote.objects.filter(order_id=order.pk, refund_reference=refund_reference).first()
        if existing is not None:
            return Issued(document=existing, created=False)
        if currency != order.currency:
            raise InvalidRefund(details={"currency": [f"The order is in {order.currency}."]})
        seller = Seller.objects.get(pk=seller_id)
        invoice = _invoice_issue_locked(order, seller=seller, actor=actor, trigger=DocumentTrigger.REFUND).document
        left = invoice_left_to_credit(invoice)
        if amount > left:
            raise CreditExceedsInvoice(
                details={"amount": _amount(amount), "left_to_credit": _amount(left), "currency": currency}
            )
        draft = credit_note_draft(
            invoice_rates=[
                TaxRateTotal(tax_rate=row.tax_rate, net=row.net_amount, tax=row.tax_amount, gross=row.gross_amount)
                for row in invoice.tax_lines.order_by("tax_rate")
            ],
            invoice_net=invoice.net_total,
            invoice_tax=invoice.tax_total,
            amount=amount,
            prices_include_tax=invoice.prices_include_tax,
            reason=reason,
        )
        return _credit_note_write(
            order, invoice, seller=seller, draft=draft, actor=actor, reference=refund_reference, reason=reason
        )


def _credit_note_write(
    order: Order, invoice: Invoice, *, seller: Seller, draft: DocumentDraft, actor: Actor, reference: str, reason: str
) -> Issued:
    issued_at = timezone.now()
    number = sequence_next(seller_id=seller.pk, name=CREDIT_NOTE_SEQUENCE)
    # The seller as of today (the credit note is issued today); the buyer as invoiced.
    credit_note = CreditNote.objects.create(
        **seller_snapshot(seller),
        order=order,
        buyer_name=invoice.buyer_name,
        buyer_email=invoice.buyer_email,
        billing_address=invoice.billing_address,
        shipping_address=invoice.shipping_address,
        order_number=invoice.order_number,
        order_placed_at=invoice.order_placed_at,
        order_channel=invoice.order_channel,
        order_external_id=invoice.order_external_id,
        invoice=invoice,
        invoice_display_number=invoice.display_number,
        refund_reference=reference[:128],
        reason=reason[:255],
        number=number,
        display_number=display_number(
            prefix=CREDIT_NOTE_PREFIX, number=number, issued_at=issued_at, seller_timezone=seller.timezone
        ),
        issued_at=issued_at,
        actor_label=actor.label,
        prices_include_tax=invoice.prices_include_tax,
        net_total=draft.net_total,
        tax_total=draft.tax_total,
        total=draft.total,
    )
    CreditNoteLine.objects.bulk_create(
        [CreditNoteLine(credit_note=credit_note, **fields) for fields in _line_fields(draft)]
    )
    CreditNoteTaxLine.objects.bulk_create(
        [CreditNoteTaxLine(credit_note=credit_note, **fields) for fields in _tax_line_fields(draft)]
    )
    order_event(
        order,
        EventType.CREDIT_NOTE_ISSUED,
        actor=actor,
        data={
            "credit_note_id": credit_note.pk,
            "number": credit_note.display_number,
            "invoice": invoice.display_number,
            "total": _amount(credit_note.total),
            "currency": order.currency,
            "refund": reference,
        },
    ).save()
    outbox_record(
        topic="credit_note.issued",
        seller_id=seller.pk,
        aggregate_type="credit_note",
        aggregate_id=credit_note.pk,
        payload=_document_payload(order, "credit_note", credit_note),
    )
    return Issued(document=credit_note, created=True)


def _stored_pdf(pdf_model, owner_field: str, document, render) -> bytes:
    """The document's PDF as first rendered; rendered and kept now if it has none. Two
    racing renders produce the same bytes (the renderer is deterministic) and the
    one-to-one key keeps the first."""
    stored = pdf_model.objects.filter(**{f"{owner_field}_id": document.pk}).values_list("content", flat=True).first()
    if stored is not None:
        return bytes(stored)
    content = render(document)
    try:
        with transaction.atomic():
            pdf_model.objects.create(
                **{owner_field: document}, content=content, sha256=hashlib.sha256(content).hexdigest()
            )
    except IntegrityError:
        return bytes(pdf_model.objects.values_list("content", flat=True).get(**{f"{owner_field}_id": document.pk}))
    return content


def invoice_pdf(*, invoice: Invoice) -> bytes:
    """``invoice`` with its lines and tax lines loaded (see selectors.invoice_get)."""
    return _stored_pdf(InvoicePdf, "invoice", invoice, render_invoice_pdf)


def credit_note_pdf(*, credit_note: CreditNote) -> bytes:
    return _stored_pdf(CreditNotePdf, "credit_note", credit_note, render_credit_note_pdf)
