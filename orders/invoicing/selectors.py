from django.db.models import Prefetch, QuerySet

from orders.exceptions import OrderNotFound
from orders.invoicing.exceptions import CreditNoteNotFound, InvoiceNotFound
from orders.invoicing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from orders.models import Order


def _invoices_with_rows(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    return queryset.prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")),
        "tax_lines",
        Prefetch("credit_notes", queryset=CreditNote.objects.order_by("id")),
    )


def _credit_notes_with_rows(queryset: QuerySet[CreditNote]) -> QuerySet[CreditNote]:
    return queryset.prefetch_related(
        Prefetch("lines", queryset=CreditNoteLine.objects.order_by("position")), "tax_lines"
    )


def _ensure_order(*, seller_id: int, order_id: int) -> None:
    if not Order.objects.filter(seller_id=seller_id, pk=order_id).exists():
        raise OrderNotFound()


def invoice_list_for_order(*, seller_id: int, order_id: int) -> list[Invoice]:
    _ensure_order(seller_id=seller_id, order_id=order_id)
    return list(Invoice.objects.filter(seller_id=seller_id, order_id=order_id).order_by("id"))


def credit_note_list_for_order(*, seller_id: int, order_id: int) -> list[CreditNote]:
    _ensure_order(seller_id=seller_id, order_id=order_id)
    return list(CreditNote.objects.filter(seller_id=seller_id, order_id=order_id).order_by("id"))


def invoice_get(*, seller_id: int, invoice_id: int) -> Invoice:
    invoice = _invoices_with_rows(Invoice.objects.filter(seller_id=seller_id, pk=invoice_id)).first()
    if invoice is None:
        raise InvoiceNotFound()
    return invoice


def credit_note_get(*, seller_id: int, credit_note_id: int) -> CreditNote:
    credit_note = _credit_notes_with_rows(CreditNote.objects.filter(seller_id=seller_id, pk=credit_note_id)).first()
    if credit_note is None:
        raise CreditNoteNotFound()
    return credit_note


def invoice_for_order(*, order_id: int) -> Invoice | None:
    return Invoice.objects.filter(order_id=order_id).first()
