"""Other apps' events issue invoices and credit notes: the events are recorded as the
shipping and payments apps record them, then this app's registered handlers run."""

import pytest
from django.db import transaction

from core.models import OutboxEvent
from core.outbox import handlers_for, outbox_record
from orders.invoicing.exceptions import InvalidRefund
from orders.invoicing.models import CreditNote, CreditNotePdf, Invoice, InvoicePdf
from orders.models import WebhookDelivery
from orders.services.webhooks import webhook_payload
from sellers.models import InvoiceTrigger
from tests.invoicing.conftest import make_shop, placed
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db

HANDLERS = {
    "shipment.shipped": "invoicing.issue_on_shipment",
    "payment.captured": "invoicing.issue_on_capture",
    "payment.refunded": "invoicing.credit_note_on_refund",
    "invoice.issued": "invoicing.invoice_pdf",
    "credit_note.issued": "invoicing.credit_note_pdf",
}


def record(topic: str, order, payload: dict) -> OutboxEvent:
    with transaction.atomic():
        return outbox_record(
            topic=topic,
            seller_id=order.seller_id,
            aggregate_type=topic.split(".")[0],
            aggregate_id=order.pk,
            payload={"order_id": order.pk, **payload},
        )


def run(event: OutboxEvent) -> None:
    """This app's handler for the event, as the relay runs it (in a transaction)."""
    with transaction.atomic():
        handlers_for(event.topic)[HANDLERS[event.topic]](event)


def shipped(order) -> OutboxEvent:
    line = order.lines.first()
    return record("shipment.shipped", order, {"shipment_id": 1, "lines": [{"line_id": line.pk, "quantity": 1}]})


def captured(order) -> OutboxEvent:
    return record("payment.captured", order, {"payment_id": 7, "amount": str(order.total.amount), "currency": "USD"})


def refunded(order, amount="5.00", refund_id="re_1") -> OutboxEvent:
    return record(
        "payment.refunded",
        order,
        {"refund_id": refund_id, "amount": amount, "currency": "USD", "reason": "Late delivery"},
    )


@pytest.mark.parametrize(
    ("trigger", "on_shipment", "on_capture"),
    [(InvoiceTrigger.SHIPPED, True, False), (InvoiceTrigger.PAID, False, True), (InvoiceTrigger.MANUAL, False, False)],
)
def test_the_sellers_trigger_decides_which_event_issues_the_invoice(trigger, on_shipment, on_capture):
    seller = make_shop(invoice_trigger=trigger)
    first, second = placed(seller, [("MUG", 1)]), placed(seller, [("MUG", 1)])

    run(shipped(first))
    run(captured(second))

    assert Invoice.objects.filter(order=first).exists() is on_shipment
    assert Invoice.objects.filter(order=second).exists() is on_capture
    for invoice in Invoice.objects.all():
        assert invoice.trigger == trigger and invoice.actor_label == "invoicing"


def test_a_second_shipment_finds_the_invoice_issued():
    seller = make_shop(invoice_trigger=InvoiceTrigger.SHIPPED)
    order = placed(seller, [("MUG", 2)])

    run(shipped(order))
    run(shipped(order))

    assert Invoice.objects.filter(order=order).count() == 1
    assert Invoice.objects.get(order=order).number == 1


@pytest.mark.parametrize(
    ("wanted", "trigger", "issued"),
    [
        (True, InvoiceTrigger.SHIPPED, True),
        (True, InvoiceTrigger.PAID, True),  # no capture comes for a marketplace order: it is invoiced on shipping
        (False, InvoiceTrigger.SHIPPED, False),
        (True, InvoiceTrigger.MANUAL, False),
    ],
)
def test_marketplace_orders_are_invoiced_only_if_the_seller_wants(wanted, trigger, issued):
    seller = make_shop(invoice_trigger=trigger, invoice_marketplace_orders=wanted)
    order = placed(seller, [("MUG", 1)], paid_externally=True)
    assert order.payment_status == "paid_externally"

    run(shipped(order))

    assert Invoice.objects.filter(order=order).exists() is issued


def test_a_refund_event_gets_a_credit_note_once_however_often_it_runs():
    seller = make_shop(invoice_trigger=InvoiceTrigger.SHIPPED)
    order = placed(seller, [("MUG", 2)])
    run(shipped(order))
    event = refunded(order, amount="7.50")

    run(event)
    run(event)

    note = CreditNote.objects.get(order=order)
    assert (str(note.total.amount), note.refund_reference, note.reason) == ("7.5000", "re_1", "Late delivery")
    assert note.invoice == Invoice.objects.get(order=order)


def test_a_refund_of_an_order_a_manual_seller_never_invoiced_issues_both():
    seller = make_shop(invoice_trigger=InvoiceTrigger.MANUAL)
    order = placed(seller, [("MUG", 2)])

    run(refunded(order, amount="20.00"))

    invoice = Invoice.objects.get(order=order)
    assert invoice.trigger == "refund"
    assert CreditNote.objects.get(order=order).total == invoice.total


def test_a_refund_with_an_unreadable_amount_fails_loudly_and_writes_nothing():
    seller = make_shop()
    order = placed(seller, [("MUG", 2)])
    event = record("payment.refunded", order, {"refund_id": "re_9", "amount": 750, "currency": "USD", "reason": ""})

    with pytest.raises(InvalidRefund, match="decimal string"):
        run(event)

    assert not CreditNote.objects.exists() and not Invoice.objects.exists()


def test_issued_documents_get_their_pdf_from_their_own_events():
    seller = make_shop()
    order = placed(seller, [("MUG", 2)])
    run(shipped(order))
    run(refunded(order))

    for topic in ("invoice.issued", "credit_note.issued"):
        run(OutboxEvent.objects.get(topic=topic))

    assert InvoicePdf.objects.get(invoice__order=order).content.startswith(b"%PDF-")
    assert CreditNotePdf.objects.get(credit_note__order=order).content.startswith(b"%PDF-")


def test_sellers_can_subscribe_to_invoice_webhooks_which_carry_the_order_and_the_invoice():
    seller = make_shop()
    subscription = subscribe(seller, "https://hooks.example.com/in", topics=["invoice.issued", "credit_note.issued"])
    order = placed(seller, [("MUG", 2)])
    run(shipped(order))
    event = OutboxEvent.objects.get(topic="invoice.issued")

    with transaction.atomic():
        handlers_for("invoice.issued")["orders.webhooks"](event)

    delivery = WebhookDelivery.objects.get(event=event)
    assert (delivery.subscription_id, delivery.topic) == (subscription.pk, "invoice.issued")
    data = webhook_payload(event)["data"]
    invoice = Invoice.objects.get(order=order)
    assert data["order"]["id"] == order.pk
    assert data["invoice"]["id"] == invoice.pk and data["invoice"]["display_number"] == invoice.display_number
