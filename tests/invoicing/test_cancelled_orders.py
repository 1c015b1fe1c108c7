"""An order cancelled after its invoice was issued gets a credit note for what the
invoice still bills, once, though no money goes back through Waybill (paid on a
marketplace, or not at all). With a Stripe payment refunded on cancel, see
tests/payments/test_cancel_after_invoice.py."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.actor import Actor
from core.models import OutboxEvent
from orders.invoicing.models import CreditNote, Invoice
from orders.invoicing.services import credit_note_issue, invoice_issue
from orders.services import order_cancel
from orders.services.changes import order_line_cancel
from sellers.models import InvoiceTrigger
from tests.invoicing.conftest import make_shop, placed
from tests.payments.conftest import run_outbox

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def dispatched(topic: str, order_id: int) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic=topic, payload__order_id=order_id).order_by("pk"))


def relay(django_capture_on_commit_callbacks, topic: str, order_id: int) -> None:
    """Every event of the topic about the order, as the relay runs them; a handler
    that fails fails the test."""
    for event in dispatched(topic, order_id):
        run_outbox(django_capture_on_commit_callbacks, topic, event.aggregate_id)
    for event in dispatched(topic, order_id):
        event.refresh_from_db()
        assert event.dispatched_at is not None, event.last_error


def notes(order_id: int) -> list[Decimal]:
    return [note.total.amount for note in CreditNote.objects.filter(order_id=order_id).order_by("pk")]


@pytest.fixture
def paid_externally(db):
    """A marketplace-style order paid outside Waybill, invoiced by hand."""
    seller = make_shop(invoice_trigger=InvoiceTrigger.MANUAL)
    order = placed(seller, [("MUG", 2), ("BOOK", 1)], paid_externally=True)
    invoice_issue(seller_id=seller.pk, order_id=order.pk, actor=ACTOR)
    return order


def test_cancelling_an_invoiced_order_credits_the_whole_invoice(paid_externally, django_capture_on_commit_callbacks):
    order = paid_externally
    order_cancel(seller_id=order.seller_id, order_id=order.pk, actor=ACTOR, reason="buyer asked")

    relay(django_capture_on_commit_callbacks, "order.cancelled", order.pk)
    relay(django_capture_on_commit_callbacks, "order.cancelled", order.pk)  # a redelivery adds nothing

    invoice = Invoice.objects.get(order=order)
    assert notes(order.pk) == [invoice.total.amount] == [Decimal("35.0000")]
    note = CreditNote.objects.get(order=order)
    assert (note.invoice_id, note.reason) == (invoice.pk, "Order cancelled: buyer asked")


def test_cancelling_the_last_line_of_an_invoiced_order_credits_the_rest(
    paid_externally, django_capture_on_commit_callbacks
):
    order = paid_externally
    mug, book = order.lines.order_by("position")
    order_line_cancel(seller_id=order.seller_id, order_id=order.pk, line_id=book.pk, quantity=None, actor=ACTOR)
    relay(django_capture_on_commit_callbacks, "order.updated", order.pk)
    assert notes(order.pk) == [Decimal("15.0000")]

    order_line_cancel(seller_id=order.seller_id, order_id=order.pk, line_id=mug.pk, quantity=None, actor=ACTOR)
    relay(django_capture_on_commit_callbacks, "order.cancelled", order.pk)

    assert notes(order.pk) == [Decimal("15.0000"), Decimal("20.0000")]


def test_a_credit_note_issued_by_hand_before_the_cancel_is_not_credited_again(
    paid_externally, django_capture_on_commit_callbacks
):
    order = paid_externally
    credit_note_issue(
        seller_id=order.seller_id,
        order_id=order.pk,
        amount=Money("5.00", "USD"),
        refund_reference="goodwill",
        actor=ACTOR,
    )
    order_cancel(seller_id=order.seller_id, order_id=order.pk, actor=ACTOR)
    relay(django_capture_on_commit_callbacks, "order.cancelled", order.pk)

    assert notes(order.pk) == [Decimal("5.0000"), Decimal("30.0000")]
