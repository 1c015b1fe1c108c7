"""Issuing invoices and credit notes through the services: what is written, what is
refused (and then nothing is written), and that issued documents never change."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from djmoney.money import Money

from core.actor import Actor
from core.models import OutboxEvent
from orders.invoicing.exceptions import CreditExceedsInvoice, InvalidRefund, InvoiceNotAllowed
from orders.invoicing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, InvoicePdf, InvoiceTaxLine
from orders.invoicing.selectors import invoice_get
from orders.invoicing.services import credit_note_issue, invoice_issue, invoice_pdf
from orders.models import EventType, Order, OrderEvent
from orders.services import AddressInput, order_cancel
from orders.services.changes import order_line_cancel, order_shipping_address_update
from sellers.models import SellerSequence
from tests.invoicing.conftest import placed, taxed

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
BILLING = AddressInput(
    name="Ada Accounts", line1="3 Ledger Lane", city="Cambridge", country="GB", postal_code="CB2 1TN"
)


def issue(order, **kwargs):
    return invoice_issue(seller_id=order.seller_id, order_id=order.pk, actor=ACTOR, **kwargs)


def refund(order, amount, reference="re_1", **kwargs):
    return credit_note_issue(
        seller_id=order.seller_id,
        order_id=order.pk,
        amount=Money(amount, order.currency),
        refund_reference=reference,
        actor=ACTOR,
        **kwargs,
    )


@pytest.fixture
def order(shop):
    order = placed(
        shop,
        [("MUG", 2), ("BOOK", 1)],
        shipping_total=Decimal("5.00"),
        customer_name="Ada Lovelace",
        billing_address=BILLING,
    )
    return taxed(
        order, lines={"MUG": ("0.2", "4.00", "0"), "BOOK": ("0.05", "0.75", "0")}, shipping=("0.2", "1.00", "0")
    )


def test_an_invoice_snapshots_the_order_seller_and_buyer(shop, order):
    result = issue(order)

    invoice = result.document
    assert result.created
    assert (
        invoice.number == 1 and invoice.display_number.startswith("INV-") and invoice.display_number.endswith("-000001")
    )
    assert (invoice.seller_name, invoice.seller_tax_id, invoice.seller_email) == (
        "Northwind Trading Ltd",
        "GB123456789",
        "billing@example.com",
    )
    assert invoice.seller_address.startswith("1 Harbour Road")
    assert invoice.buyer_name == "Ada Lovelace"
    assert invoice.billing_address["line1"] == "3 Ledger Lane"
    assert invoice.shipping_address["line1"] == "12 Analytical Way"
    assert (invoice.order_number, invoice.trigger, invoice.actor_label) == (order.number, "manual", "test")
    assert (invoice.net_total, invoice.tax_total, invoice.total) == (
        Money("40.00", "USD"),
        Money("5.75", "USD"),
        Money("45.75", "USD"),
    )
    assert invoice.total == order.total
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    assert [(ln.kind, ln.sku, ln.description, ln.quantity, ln.tax_rate) for ln in lines] == [
        ("product", "MUG", "Enamel mug", 2, Decimal("0.2")),
        ("product", "BOOK", "Field guide", 1, Decimal("0.05")),
        ("shipping", "", "Shipping (VAT)", 1, Decimal("0.2")),
    ]
    assert [ln.gross_amount for ln in lines] == [Money("24.00", "USD"), Money("15.75", "USD"), Money("6.00", "USD")]
    summary = list(InvoiceTaxLine.objects.filter(invoice=invoice).order_by("tax_rate"))
    assert [(t.tax_rate, t.net_amount.amount, t.tax_amount.amount) for t in summary] == [
        (Decimal("0.05"), Decimal("15.00"), Decimal("0.75")),
        (Decimal("0.2"), Decimal("25.00"), Decimal("5.00")),
    ]


def test_issuing_writes_an_order_event_and_an_outbox_event(order):
    invoice = issue(order).document

    event = OrderEvent.objects.get(order=order, type=EventType.INVOICE_ISSUED)
    assert event.data == {
        "invoice_id": invoice.pk,
        "number": invoice.display_number,
        "total": "45.75",
        "currency": "USD",
        "trigger": "manual",
    }
    outbox = OutboxEvent.objects.get(topic="invoice.issued")
    assert (outbox.seller_id, outbox.aggregate_type, outbox.aggregate_id) == (
        order.seller_id,
        "invoice",
        str(invoice.pk),
    )
    assert outbox.payload["order_id"] == order.pk
    assert outbox.payload["invoice"]["display_number"] == invoice.display_number
    assert outbox.payload["invoice"]["total"] == {"amount": "45.75", "currency": "USD"}


def test_a_second_issue_returns_the_same_invoice_and_takes_no_number(order):
    first = issue(order).document

    second = issue(order)

    assert not second.created and second.document.pk == first.pk
    assert Invoice.objects.count() == 1
    assert SellerSequence.objects.get(seller_id=order.seller_id, name="invoice").last_value == 1
    assert OrderEvent.objects.filter(order=order, type=EventType.INVOICE_ISSUED).count() == 1


def test_cancelled_lines_are_not_invoiced(shop):
    order = placed(shop, [("MUG", 3), ("BOOK", 1)])
    line = order.lines.get(sku="MUG")
    order_line_cancel(seller_id=shop.pk, order_id=order.pk, line_id=line.pk, quantity=1, actor=ACTOR, reason="")

    invoice = issue(order).document

    mug = InvoiceLine.objects.get(invoice=invoice, sku="MUG")
    assert (mug.quantity, mug.gross_amount) == (2, Money("20.00", "USD"))
    assert invoice.total == Money("35.00", "USD") == Order.objects.get(pk=order.pk).total


def test_a_cancelled_order_cannot_be_invoiced_and_no_number_is_used(shop):
    order = placed(shop, [("MUG", 1)])
    order_cancel(seller_id=shop.pk, order_id=order.pk, actor=ACTOR)

    with pytest.raises(InvoiceNotAllowed):
        issue(order)

    assert not Invoice.objects.exists()
    assert not SellerSequence.objects.filter(seller=shop, name="invoice").exists()
    assert not OrderEvent.objects.filter(order=order, type=EventType.INVOICE_ISSUED).exists()
    assert not OutboxEvent.objects.filter(topic="invoice.issued").exists()


def test_later_changes_to_seller_product_and_address_leave_the_invoice_alone(shop, order):
    invoice = issue(order).document
    pdf = invoice_pdf(invoice=invoice_get(seller_id=shop.pk, invoice_id=invoice.pk))

    shop.legal_name, shop.legal_address, shop.tax_id = "Renamed plc", "Elsewhere", "GB999"
    shop.save()
    order.lines.get(sku="MUG").product.__class__.objects.filter(sku="MUG").update(name="Renamed mug")
    Order.objects.filter(pk=order.pk).update(ship_line1="99 New Street", customer_name="Someone Else")

    again = invoice_get(seller_id=shop.pk, invoice_id=invoice.pk)
    assert (again.seller_name, again.seller_tax_id, again.buyer_name) == (
        "Northwind Trading Ltd",
        "GB123456789",
        "Ada Lovelace",
    )
    assert again.shipping_address["line1"] == "12 Analytical Way"
    assert again.lines.all()[0].description == "Enamel mug"
    assert invoice_pdf(invoice=again) == pdf


def test_a_refund_gets_a_credit_note_against_the_invoice(order):
    invoice = issue(order).document

    result = refund(order, "15.75", reason="Book returned")

    note = result.document
    assert result.created
    assert note.invoice_id == invoice.pk and note.invoice_display_number == invoice.display_number
    assert note.display_number.startswith("CN-") and note.number == 1
    assert (note.refund_reference, note.reason) == ("re_1", "Book returned")
    assert note.total == Money("15.75", "USD") and note.net_total + note.tax_total == note.total
    lines = list(CreditNoteLine.objects.filter(credit_note=note).order_by("position"))
    assert sum((ln.gross_amount for ln in lines), Money(0, "USD")) == Money("15.75", "USD")
    assert {ln.tax_rate for ln in lines} == {Decimal("0.05"), Decimal("0.2")}
    event = OrderEvent.objects.get(order=order, type=EventType.CREDIT_NOTE_ISSUED)
    assert event.data["refund"] == "re_1" and event.data["invoice"] == invoice.display_number
    assert OutboxEvent.objects.get(topic="credit_note.issued").payload["credit_note"]["id"] == note.pk


def test_the_same_refund_twice_gives_one_credit_note(order):
    first = refund(order, "5.00").document

    second = refund(order, "5.00")

    assert not second.created and second.document.pk == first.pk
    assert CreditNote.objects.count() == 1
    assert SellerSequence.objects.get(seller_id=order.seller_id, name="credit_note").last_value == 1


def test_a_refund_before_the_invoice_issues_the_invoice_first(order):
    note = refund(order, "10.00").document

    invoice = Invoice.objects.get(order=order)
    assert note.invoice_id == invoice.pk and invoice.trigger == "refund"
    types = list(OrderEvent.objects.filter(order=order).order_by("id").values_list("type", flat=True))
    assert types[-2:] == [EventType.INVOICE_ISSUED, EventType.CREDIT_NOTE_ISSUED]


def test_refunds_cannot_credit_more_than_was_invoiced_and_a_refusal_writes_nothing(order):
    refund(order, "40.00", reference="re_1")

    with pytest.raises(CreditExceedsInvoice) as refused:
        refund(order, "5.76", reference="re_2")

    assert refused.value.details == {"amount": "5.76", "left_to_credit": "5.75", "currency": "USD"}
    assert CreditNote.objects.count() == 1
    assert SellerSequence.objects.get(seller_id=order.seller_id, name="credit_note").last_value == 1
    assert refund(order, "5.75", reference="re_3").document.number == 2


@pytest.mark.parametrize(
    ("amount", "currency", "reference", "field"),
    [
        ("0", "USD", "re_1", "amount"),
        ("1.001", "USD", "re_1", "amount"),
        ("1", "EUR", "re_1", "currency"),
        ("1", "USD", " ", "refund_reference"),
    ],
)
def test_invalid_refunds_are_refused(order, amount, currency, reference, field):
    with pytest.raises(InvalidRefund) as refused:
        credit_note_issue(
            seller_id=order.seller_id,
            order_id=order.pk,
            amount=Money(amount, currency),
            refund_reference=reference,
            actor=ACTOR,
        )

    assert field in refused.value.details
    assert not CreditNote.objects.exists() and not Invoice.objects.exists()


@pytest.mark.postgres
def test_postgresql_refuses_to_change_or_delete_issued_documents(order):
    invoice = issue(order).document
    invoice_pdf(invoice=invoice_get(seller_id=order.seller_id, invoice_id=invoice.pk))
    refund(order, "1.00")
    attempts = [
        lambda: Invoice.objects.filter(pk=invoice.pk).update(seller_name="Forged"),
        # A raw DELETE: Django's PROTECT would refuse a queryset delete before the database does.
        lambda: connection.cursor().execute("DELETE FROM invoicing_invoice WHERE id = %s", [invoice.pk]),
        lambda: InvoiceLine.objects.filter(invoice=invoice).update(quantity=99),
        lambda: InvoiceTaxLine.objects.filter(invoice=invoice).delete(),
        lambda: InvoicePdf.objects.filter(invoice=invoice).update(content=b"forged"),
        lambda: CreditNote.objects.update(reason="forged"),
        lambda: CreditNoteLine.objects.all().delete(),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert Invoice.objects.get(pk=invoice.pk).seller_name == "Northwind Trading Ltd"


def test_the_address_change_service_does_not_reach_the_invoice(shop, order):
    invoice = issue(order).document

    order_shipping_address_update(
        seller_id=shop.pk,
        order_id=order.pk,
        address=AddressInput(
            name="Ada Lovelace", line1="7 Other Road", city="Boston", country="US", postal_code="02110"
        ),
        actor=ACTOR,
    )

    assert Invoice.objects.get(pk=invoice.pk).shipping_address["line1"] == "12 Analytical Way"


def test_the_database_refuses_amounts_that_do_not_add_up_to_the_last_place(order):
    """SQLite keeps the amounts as floats, so the CHECK is a band half a place wide; it
    still refuses a line or a document off by 0.0001, on either database."""
    from django.db import IntegrityError

    invoice = issue(order).document
    line = InvoiceLine.objects.filter(invoice=invoice).first()
    line.pk, line.position = None, 99
    line.gross_amount = line.net_amount + line.tax_amount + Money("0.0001", order.currency)
    with pytest.raises(IntegrityError, match="invoice_line_amounts_add_up"), transaction.atomic():
        line.save()

    forged = Invoice.objects.get(pk=invoice.pk)
    forged.pk, forged.number = None, forged.number + 1000
    forged.total = forged.net_total + forged.tax_total - Money("0.0001", order.currency)
    with pytest.raises(IntegrityError, match="invoice_totals_add_up"), transaction.atomic():
        forged.save()
