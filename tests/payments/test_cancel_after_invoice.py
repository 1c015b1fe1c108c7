"""Cancelling an order whose payment was captured: the refund and the order's
cancellation both reach invoicing, in the relay's order. Invoiced on capture, the
order gets one credit note for the whole invoice; never invoiced, it gets no
document at all (a cancelled order cannot be invoiced) and no handler fails."""

from decimal import Decimal

import pytest

from core.actor import Actor
from core.models import OutboxEvent
from orders.invoicing.models import CreditNote, Invoice
from orders.payments.models import Payment, Refund
from orders.payments.services import payment_capture
from sellers.models import InvoiceTrigger
from tests.payments.conftest import authorize, place_paid, run_outbox

pytestmark = pytest.mark.django_db


def relay(django_capture_on_commit_callbacks, topic: str, order_id: int) -> None:
    events = OutboxEvent.objects.filter(topic=topic, payload__order_id=order_id)
    for event in events:
        run_outbox(django_capture_on_commit_callbacks, topic, event.aggregate_id)
    for event in events.all():
        assert event.dispatched_at is not None, event.last_error


def captured_then_cancelled(api, shop, storefront, callbacks) -> dict:
    intent_id = authorize(storefront, shop, amount=3500)
    order = place_paid(api, [("MUG", 1), ("PLATE", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=Actor.system("test"))
    relay(callbacks, "payment.captured", order["id"])
    response = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "changed my mind"}, format="json")
    assert response.status_code == 200, response.json()
    relay(callbacks, "order.cancelled", order["id"])
    relay(callbacks, "payment.refunded", order["id"])
    assert Refund.objects.get(payment=payment).amount.amount == Decimal("35")
    return order


def test_invoiced_on_capture_then_cancelled_one_credit_note_for_the_whole_invoice(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    shop.invoice_trigger = InvoiceTrigger.PAID
    shop.save(update_fields=["invoice_trigger"])

    order = captured_then_cancelled(api, shop, storefront, django_capture_on_commit_callbacks)

    invoice = Invoice.objects.get(order_id=order["id"])
    notes = list(CreditNote.objects.filter(order_id=order["id"]))
    assert [note.total for note in notes] == [invoice.total]
    assert invoice.total.amount == Decimal("35")


def test_captured_by_hand_never_invoiced_then_cancelled_gets_no_documents(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    assert shop.invoice_trigger == InvoiceTrigger.SHIPPED

    order = captured_then_cancelled(api, shop, storefront, django_capture_on_commit_callbacks)

    assert not Invoice.objects.filter(order_id=order["id"]).exists()
    assert not CreditNote.objects.filter(order_id=order["id"]).exists()
