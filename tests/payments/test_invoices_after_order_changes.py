"""Invoices and credit notes when the order changes around its Stripe payment, end to
end against the local Stripe.

Cancelling an order whose payment was captured: the refund and the order's
cancellation both reach invoicing, in the relay's order. Invoiced on capture, the
order gets one credit note for the whole invoice; never invoiced, it gets no document
at all (a cancelled order cannot be invoiced) and no handler fails.

A capture that takes more than the order costs now (made in Stripe's dashboard after a
line was cancelled) is refunded the difference, and the invoice drawn at that capture
bills only what the order costs now, so the refund needs no credit note."""

from decimal import Decimal

import pytest

from core.actor import Actor
from core.models import OutboxEvent
from orders.invoicing.models import CreditNote, Invoice
from orders.payments.models import Payment, Refund
from orders.payments.services import payment_capture
from sellers.models import InvoiceTrigger
from tests.payments.conftest import authorize, deliver, place_paid, run_outbox, run_tasks

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


def test_a_dashboard_capture_after_a_line_cancel_is_refunded_the_difference_and_invoiced_net(
    api, client, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    shop.invoice_trigger = InvoiceTrigger.PAID
    shop.save(update_fields=["invoice_trigger"])
    intent_id = authorize(storefront, shop, amount=3500)
    order = place_paid(api, [("MUG", 1), ("PLATE", 1)], intent_id)
    plate = next(line for line in order["lines"] if line["sku"] == "PLATE")
    cancelled = api.post(f"/api/v1/orders/{order['id']}/lines/{plate['id']}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    relay(django_capture_on_commit_callbacks, "order.updated", order["id"])
    payment = Payment.objects.get(order_id=order["id"])
    assert not Refund.objects.filter(payment=payment).exists()  # nothing captured yet

    # The seller captures the whole authorization in Stripe's dashboard.
    storefront.v1.payment_intents.capture(intent_id)
    (succeeded,) = sandbox.events_of("payment_intent.succeeded")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = deliver(client, sandbox, succeeded)
    assert (response.status_code, response.json()["outcome"]) == (200, "processed")
    run_tasks(callbacks)
    relay(django_capture_on_commit_callbacks, "payment.captured", order["id"])
    relay(django_capture_on_commit_callbacks, "payment.refunded", order["id"])

    payment.refresh_from_db()
    assert (payment.amount_captured.amount, payment.amount_refunded.amount) == (Decimal("35"), Decimal("25"))
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.reason) == ("succeeded", "Captured more than the order now costs")
    charge = storefront.v1.charges.retrieve(storefront.v1.payment_intents.retrieve(intent_id).latest_charge)
    assert (charge.amount_captured, charge.amount_refunded) == (3500, 2500)
    invoice = Invoice.objects.get(order_id=order["id"])
    assert invoice.total.amount == Decimal("10")
    assert not CreditNote.objects.filter(order_id=order["id"]).exists()
