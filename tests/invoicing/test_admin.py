"""Invoices and credit notes in the admin: read-only, scoped to the user's sellers,
with PDFs, and the "Issue invoice" action on orders."""

import io

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money
from pypdf import PdfReader

from core.actor import Actor
from orders.invoicing.models import CreditNote, Invoice
from orders.invoicing.services import credit_note_issue, invoice_issue
from orders.models import EventType
from sellers.models import StaffRole
from tests.factories import MembershipFactory, UserFactory
from tests.invoicing.conftest import make_shop, placed

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")
INVOICES = reverse("admin:invoicing_invoice_changelist")
CREDIT_NOTES = reverse("admin:invoicing_creditnote_changelist")


@pytest.fixture
def shops(db):
    return make_shop("Alpha"), make_shop("Beta")


def login(client, seller, role=StaffRole.STAFF):
    user = MembershipFactory(seller=seller, role=role).user
    client.force_login(user)
    return user


def issued(seller, count=1):
    invoices = []
    for _ in range(count):
        order = placed(seller, [("MUG", 1)])
        invoices.append(invoice_issue(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("test")).document)
    return invoices


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_see_only_their_sellers_invoices_and_can_download_the_pdf(client, shops):
    alpha, beta = shops
    (mine,) = issued(alpha)
    (theirs,) = issued(beta)
    login(client, alpha, StaffRole.VIEWER)

    listing = client.get(INVOICES)

    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [mine]
    pdf_url = reverse("admin:invoicing_invoice_pdf", args=[mine.pk])
    assert pdf_url in listing.content.decode()
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert mine.display_number in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert client.get(reverse("admin:invoicing_invoice_pdf", args=[theirs.pk])).status_code == 404
    other = client.get(reverse("admin:invoicing_invoice_change", args=[theirs.pk]))
    assert other.status_code == 302  # Django's "doesn't exist" redirect to the admin index


def test_an_invoice_page_is_read_only_even_for_a_superuser(client, shops):
    (invoice,) = issued(shops[0])
    client.force_login(UserFactory(is_superuser=True))

    page = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))

    assert page.status_code == 200
    content = page.content.decode()
    assert invoice.display_number in content and "Enamel mug" in content
    assert 'name="_save"' not in content
    assert client.get(reverse("admin:invoicing_invoice_add")).status_code == 403
    assert client.post(reverse("admin:invoicing_invoice_delete", args=[invoice.pk]), {"post": "yes"}).status_code == 403
    assert Invoice.objects.filter(pk=invoice.pk).exists()


def test_credit_notes_are_listed_per_seller_with_their_pdf(client, shops):
    alpha, beta = shops
    for seller in shops:
        order = placed(seller, [("MUG", 2)])
        credit_note_issue(
            seller_id=seller.pk,
            order_id=order.pk,
            amount=Money("5.00", "USD"),
            refund_reference="re_1",
            actor=Actor.system("test"),
        )
    login(client, beta)

    listing = client.get(CREDIT_NOTES)

    (note,) = listing.context["cl"].result_list
    assert note.seller_id == beta.pk
    pdf = client.get(reverse("admin:invoicing_creditnote_pdf", args=[note.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    alpha_note = CreditNote.objects.get(seller=alpha)
    assert client.get(reverse("admin:invoicing_creditnote_pdf", args=[alpha_note.pk])).status_code == 404


def test_the_issue_invoice_action_issues_through_the_service_as_the_staff_user(client, shops):
    alpha, _ = shops
    order, already = placed(alpha, [("MUG", 1)]), placed(alpha, [("MUG", 1)])
    existing = invoice_issue(seller_id=alpha.pk, order_id=already.pk, actor=Actor.system("test")).document
    user = login(client, alpha)

    response = client.post(
        ORDERS, {"action": "issue_invoices", "_selected_action": [order.pk, already.pk], "index": 0}, follow=True
    )

    invoice = Invoice.objects.get(order=order)
    assert (invoice.trigger, invoice.actor_label, invoice.number) == ("manual", user.username, 2)
    event = order.events.get(type=EventType.INVOICE_ISSUED)
    assert (event.actor_kind, event.actor_user_id) == ("staff", user.pk)
    assert messages_of(response) == [
        f"Issued 1 invoice(s): {invoice.display_number}.",
        f"Already invoiced: {existing.display_number}.",
    ]


def test_the_action_skips_another_sellers_orders_and_viewers_do_not_have_it(client, shops):
    alpha, beta = shops
    theirs = placed(beta, [("MUG", 1)])
    login(client, alpha)

    client.post(ORDERS, {"action": "issue_invoices", "_selected_action": [theirs.pk], "index": 0}, follow=True)

    assert not Invoice.objects.exists()
    client.force_login(MembershipFactory(seller=alpha, role=StaffRole.VIEWER).user)
    form = client.get(ORDERS).context["action_form"]
    assert form is None or "issue_invoices" not in [name for name, _ in form.fields["action"].choices]
    client.post(ORDERS, {"action": "issue_invoices", "_selected_action": [placed(alpha, [("MUG", 1)]).pk], "index": 0})
    assert not Invoice.objects.exists()


def test_the_invoice_list_takes_a_fixed_number_of_queries(client, shops):
    alpha, _ = shops
    issued(alpha, 2)
    login(client, alpha)
    with CaptureQueriesContext(connection) as few:
        client.get(INVOICES)
    issued(alpha, 8)
    with CaptureQueriesContext(connection) as many:
        client.get(INVOICES)

    assert len(many) == len(few)
