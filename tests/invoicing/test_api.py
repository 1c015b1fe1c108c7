"""Invoices and credit notes over the API, as a storefront sees them."""

import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money
from pypdf import PdfReader

from core.actor import Actor
from core.models import OutboxEvent
from orders.invoicing.models import CreditNote, Invoice
from orders.invoicing.services import credit_note_issue
from orders.services import order_cancel
from sellers.models import ApiScope, SellerSequence
from tests.conftest import client_for
from tests.invoicing.conftest import make_shop, placed, taxed

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(shop):
    return client_for(shop)


@pytest.fixture
def order(shop):
    order = placed(shop, [("MUG", 2), ("BOOK", 1)], shipping_total=Decimal("5.00"), customer_name="Ada Lovelace")
    return taxed(
        order, lines={"MUG": ("0.2", "4.00", "0"), "BOOK": ("0.05", "0.75", "0")}, shipping=("0.2", "1.00", "0")
    )


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"} and body["code"] == code
    return body


def test_issuing_by_api_creates_the_invoice_once(api, order):
    first = api.post(f"/api/v1/orders/{order.pk}/invoices/")

    assert first.status_code == 201, first.content
    body = first.json()
    invoice = Invoice.objects.get(order=order)
    assert first["Location"] == f"/api/v1/invoices/{invoice.pk}/"
    assert body["display_number"] == invoice.display_number and body["number"] == 1
    assert body["trigger"] == "manual"
    assert body["total"] == {"amount": "45.75", "currency": "USD"}
    assert body["tax_total"] == {"amount": "5.75", "currency": "USD"}
    assert body["seller"] == {
        "name": "Northwind Trading Ltd",
        "address": "1 Harbour Road\nBristol BS1 4DJ\nUnited Kingdom",
        "tax_id": "GB123456789",
        "email": "billing@example.com",
    }
    assert body["buyer"]["name"] == "Ada Lovelace"
    assert [(ln["kind"], ln["sku"], ln["tax_rate"]) for ln in body["lines"]] == [
        ("product", "MUG", "0.20000"),
        ("product", "BOOK", "0.05000"),
        ("shipping", "", "0.20000"),
    ]
    assert [t["tax_amount"]["amount"] for t in body["tax_lines"]] == ["0.75", "5.00"]
    assert body["pdf_url"] == f"/api/v1/invoices/{invoice.pk}/pdf/"
    assert invoice.actor_label.startswith("api key ")

    again = api.post(f"/api/v1/orders/{order.pk}/invoices/")

    assert again.status_code == 200 and again.json()["id"] == invoice.pk
    assert Invoice.objects.count() == 1
    assert SellerSequence.objects.get(seller=order.seller, name="invoice").last_value == 1


def test_the_order_lists_its_invoice_and_credit_notes_with_links(api, order):
    assert api.get(f"/api/v1/orders/{order.pk}/invoices/").json() == []
    api.post(f"/api/v1/orders/{order.pk}/invoices/")
    credit_note_issue(
        seller_id=order.seller_id,
        order_id=order.pk,
        amount=Money("6.00", "USD"),
        refund_reference="re_1",
        reason="Chipped mug",
        actor=Actor.system("test"),
    )
    invoice, note = Invoice.objects.get(), CreditNote.objects.get()

    invoices = api.get(f"/api/v1/orders/{order.pk}/invoices/").json()
    notes = api.get(f"/api/v1/orders/{order.pk}/credit-notes/").json()

    assert [(i["id"], i["url"], i["pdf_url"]) for i in invoices] == [
        (invoice.pk, f"/api/v1/invoices/{invoice.pk}/", f"/api/v1/invoices/{invoice.pk}/pdf/")
    ]
    assert [(n["id"], n["invoice_id"], n["total"]["amount"], n["reason"]) for n in notes] == [
        (note.pk, invoice.pk, "6.00", "Chipped mug")
    ]
    detail = api.get(notes[0]["url"]).json()
    assert detail["invoice_display_number"] == invoice.display_number
    assert sum(Decimal(ln["gross_amount"]["amount"]) for ln in detail["lines"]) == Decimal("6.00")
    assert [n["id"] for n in api.get(invoices[0]["url"]).json()["credit_notes"]] == [note.pk]


def test_the_pdf_downloads_with_its_number_and_total(api, order):
    invoice_id = api.post(f"/api/v1/orders/{order.pk}/invoices/").json()["id"]
    invoice = Invoice.objects.get(pk=invoice_id)

    response = api.get(f"/api/v1/invoices/{invoice_id}/pdf/", HTTP_ACCEPT="application/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.display_number}.pdf"'
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert invoice.display_number in text and "45.75 USD" in text


def test_a_credit_note_pdf_downloads(api, order):
    note = credit_note_issue(
        seller_id=order.seller_id,
        order_id=order.pk,
        amount=Money("3.00", "USD"),
        refund_reference="re_2",
        actor=Actor.system("test"),
    ).document

    response = api.get(f"/api/v1/credit-notes/{note.pk}/pdf/")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert note.display_number in PdfReader(io.BytesIO(response.content)).pages[0].extract_text()


def test_another_sellers_documents_are_404(order):
    invoice_id = client_for(order.seller).post(f"/api/v1/orders/{order.pk}/invoices/").json()["id"]
    note = credit_note_issue(
        seller_id=order.seller_id,
        order_id=order.pk,
        amount=Money("1.00", "USD"),
        refund_reference="re_3",
        actor=Actor.system("test"),
    ).document
    stranger = client_for(make_shop("Other"))

    assert_error(stranger.get(f"/api/v1/invoices/{invoice_id}/"), 404, "invoice_not_found")
    assert_error(
        stranger.get(f"/api/v1/invoices/{invoice_id}/pdf/", HTTP_ACCEPT="application/pdf"), 404, "invoice_not_found"
    )
    assert_error(stranger.get(f"/api/v1/credit-notes/{note.pk}/"), 404, "credit_note_not_found")
    assert_error(stranger.get(f"/api/v1/credit-notes/{note.pk}/pdf/"), 404, "credit_note_not_found")
    assert_error(stranger.get(f"/api/v1/orders/{order.pk}/invoices/"), 404, "order_not_found")
    assert_error(stranger.get(f"/api/v1/orders/{order.pk}/credit-notes/"), 404, "order_not_found")
    assert_error(stranger.post(f"/api/v1/orders/{order.pk}/invoices/"), 404, "order_not_found")
    assert Invoice.objects.count() == 1


def test_scopes_read_to_read_and_write_to_issue(shop, order):
    reader = client_for(shop, scopes=[ApiScope.ORDERS_READ])
    writer_without_read = client_for(shop, scopes=[ApiScope.ORDERS_WRITE])

    assert_error(reader.post(f"/api/v1/orders/{order.pk}/invoices/"), 403, "permission_denied")
    assert not Invoice.objects.exists()
    assert_error(writer_without_read.get(f"/api/v1/orders/{order.pk}/invoices/"), 403, "permission_denied")
    assert writer_without_read.post(f"/api/v1/orders/{order.pk}/invoices/").status_code == 201
    assert reader.get(f"/api/v1/orders/{order.pk}/invoices/").status_code == 200


def test_a_cancelled_order_is_409_and_nothing_is_written(api, shop):
    order = placed(shop, [("MUG", 1)])
    order_cancel(seller_id=shop.pk, order_id=order.pk, actor=Actor.system("test"))

    assert_error(api.post(f"/api/v1/orders/{order.pk}/invoices/"), 409, "invoice_not_allowed")
    assert not Invoice.objects.exists()
    assert not OutboxEvent.objects.filter(topic="invoice.issued").exists()


def test_reading_an_invoice_takes_a_fixed_number_of_queries(api, shop):
    small = placed(shop, [("MUG", 1)])
    large = placed(shop, [("MUG", 1)] * 30)
    ids = [api.post(f"/api/v1/orders/{o.pk}/invoices/").json()["id"] for o in (small, large)]

    counts = []
    for invoice_id in ids:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/api/v1/invoices/{invoice_id}/").status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 6
