"""The PDFs open, and say what they must: number, totals, currency, parties, lines."""

import io
from decimal import Decimal

import pytest
from djmoney.money import Money
from pypdf import PdfReader

from core.actor import Actor
from orders.invoicing.models import InvoicePdf
from orders.invoicing.pdf import render_invoice_pdf
from orders.invoicing.selectors import credit_note_get, invoice_get
from orders.invoicing.services import credit_note_issue, credit_note_pdf, invoice_issue, invoice_pdf
from orders.services import AddressInput
from tests.invoicing.conftest import placed, taxed

ACTOR = Actor.system("test")


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def invoice(shop):
    order = placed(
        shop,
        [("MUG", 2), ("BOOK", 1)],
        shipping_total=Decimal("5.00"),
        billing_address=None,
        customer_name="Ada Lovelace",
        external_id="WEB-1001",
    )
    taxed(order, lines={"MUG": ("0.2", "4.00", "0"), "BOOK": ("0.05", "0.75", "0")}, shipping=("0.2", "1.00", "0"))
    issued = invoice_issue(seller_id=shop.pk, order_id=order.pk, actor=ACTOR).document
    return invoice_get(seller_id=shop.pk, invoice_id=issued.pk)


def test_the_invoice_pdf_opens_and_shows_number_total_and_currency(invoice):
    content = invoice_pdf(invoice=invoice)

    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) == 1
    assert reader.metadata.title == f"Invoice {invoice.display_number}"
    text = text_of(content)
    assert invoice.display_number in text
    assert invoice.total == Money("45.75", "USD")
    assert "45.75 USD" in text
    assert "Currency USD" in text or "USD" in text.split("Currency", 1)[1]
    for expected in (
        "INVOICE",
        "Northwind Trading Ltd",
        "1 Harbour Road",
        "Tax ID: GB123456789",
        "Ada Lovelace",
        "12 Analytical Way",
        "Enamel mug",
        "SKU MUG",
        "Field guide",
        "Shipping",
        "20 %",
        "5 %",
        f"#{invoice.order_number}",
        "WEB-1001",
        "Net total",
        "40.00 USD",
        "5.75 USD",
    ):
        assert expected in text, expected


def test_names_and_addresses_outside_latin_1_print_as_text(shop):
    """Polish, Czech and Ukrainian names come out as written, in the embedded typeface."""
    order = placed(
        shop,
        [("MUG", 1)],
        customer_name="Zofia Wąsowska",
        shipping_address=AddressInput(
            name="Jiří Dvořák", line1="ul. Żeromskiego 5", city="Łódź", postal_code="90-001", country="PL"
        ),
        billing_address=AddressInput(
            name="Олена Шевченко", line1="вул. Хрещатик 1", city="Київ", postal_code="01001", country="UA"
        ),
    )
    invoice = invoice_get(
        seller_id=shop.pk, invoice_id=invoice_issue(seller_id=shop.pk, order_id=order.pk, actor=ACTOR).document.pk
    )

    (page,) = PdfReader(io.BytesIO(invoice_pdf(invoice=invoice))).pages

    text = page.extract_text()
    for expected in ("Jiří Dvořák", "ul. Żeromskiego 5", "Łódź", "Олена Шевченко", "вул. Хрещатик 1", "Київ"):
        assert expected in text, expected
    fonts = page["/Resources"]["/Font"]
    faces = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert faces == {"/AAAAAA+SourceSansPro-Regular", "/AAAAAA+SourceSansPro-Bold"}


def test_the_pdf_is_kept_as_first_rendered_and_rendering_is_deterministic(invoice):
    first = invoice_pdf(invoice=invoice)

    assert render_invoice_pdf(invoice) == first
    assert InvoicePdf.objects.get(invoice=invoice).content == first
    assert invoice_pdf(invoice=invoice) == first
    assert InvoicePdf.objects.filter(invoice=invoice).count() == 1


def test_a_long_order_breaks_over_pages_with_the_totals_at_the_end(shop):
    order = placed(shop, [("MUG", 1)] * 60)
    invoice = invoice_get(
        seller_id=shop.pk, invoice_id=invoice_issue(seller_id=shop.pk, order_id=order.pk, actor=ACTOR).document.pk
    )

    content = invoice_pdf(invoice=invoice)

    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 2
    last = reader.pages[-1].extract_text()
    assert "600.00 USD" in last and "Page" in last
    assert "Description" in reader.pages[1].extract_text()  # the header row repeats


def test_the_credit_note_pdf_names_the_invoice_it_credits(invoice):
    issued = credit_note_issue(
        seller_id=invoice.seller_id,
        order_id=invoice.order_id,
        amount=Money("10.00", "USD"),
        refund_reference="re_123",
        reason="Damaged in transit",
        actor=ACTOR,
    ).document
    credit_note = credit_note_get(seller_id=invoice.seller_id, credit_note_id=issued.pk)

    text = text_of(credit_note_pdf(credit_note=credit_note))

    assert "CREDIT NOTE" in text
    assert credit_note.display_number in text and credit_note.display_number.startswith("CN-")
    assert invoice.display_number in text
    assert "10.00 USD" in text
    assert "Damaged in transit" in text and "re_123" in text
