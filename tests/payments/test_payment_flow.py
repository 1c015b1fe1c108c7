"""An order's payment from authorization to full refund, against the local Stripe:
placed with a verified PaymentIntent, captured when it ships, refunded in parts through
the API, voided when cancelled."""

from decimal import Decimal

import pytest

from core.actor import Actor
from core.models import OutboxEvent
from orders.models import EventType, Order, OrderEvent
from orders.payments.handlers import payment_refund_on_line_cancel
from orders.payments.models import Payment, PaymentState, Refund
from orders.payments.services import payment_capture
from tests.payments.conftest import authorize, place_paid, run_outbox, ship

pytestmark = pytest.mark.django_db


def payment_events(order_id: int) -> list[str]:
    types = {
        EventType.PAYMENT_AUTHORIZED,
        EventType.PAYMENT_CAPTURED,
        EventType.PAYMENT_VOIDED,
        EventType.PAYMENT_REFUNDED,
        EventType.PAYMENT_FAILED,
    }
    return list(OrderEvent.objects.filter(order_id=order_id, type__in=types).values_list("type", flat=True))


def test_authorize_capture_partial_refund_full_refund(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    # Given an order of 2 mugs (20.00) and 5.00 shipping, paid by an authorized intent of 2500 cents
    intent_id = authorize(storefront, shop, amount=2500)
    order = place_paid(api, [("MUG", 2)], intent_id, shipping_total="5.00")
    assert order["payment_status"] == "authorized"
    payment = Payment.objects.get(order_id=order["id"])
    assert (payment.status, payment.amount_authorized.amount, payment.currency) == ("authorized", Decimal("25"), "USD")

    # When it ships, the payment is captured in full
    ship(order["id"], shipment_id=41)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 41)
    intent = storefront.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", 2500)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_captured.amount) == ("captured", Decimal("25"))
    assert Order.objects.get(pk=order["id"]).payment_status == "paid"
    captured = OutboxEvent.objects.get(topic="payment.captured")
    assert captured.payload == {"order_id": order["id"], "payment_id": payment.pk, "amount": "25.00", "currency": "USD"}

    # Then 10.00 is refunded, then the rest
    first = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "10.00", "reason": "chipped"}, format="json")
    assert first.status_code == 201, first.json()
    assert (first.json()["status"], first.json()["amount"]) == ("succeeded", {"amount": "10.00", "currency": "USD"})
    assert Order.objects.get(pk=order["id"]).payment_status == "partially_refunded"
    charge = storefront.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, False)

    rest = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"reason": "returned"}, format="json")
    assert rest.status_code == 201, rest.json()
    assert rest.json()["amount"] == {"amount": "15.00", "currency": "USD"}
    charge = storefront.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2500, True)
    payment.refresh_from_db()
    assert (payment.status, payment.amount_refunded.amount) == (PaymentState.REFUNDED, Decimal("25"))
    assert Order.objects.get(pk=order["id"]).payment_status == "refunded"

    # Nothing is left: a third refund is refused and reaches no Stripe endpoint
    calls = len(sandbox.requests)
    more = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "0.01"}, format="json")
    assert (more.status_code, more.json()["code"]) == (409, "invalid_payment_state")
    assert len(sandbox.requests) == calls

    refunded = OutboxEvent.objects.filter(topic="payment.refunded").order_by("pk")
    assert [(e.payload["amount"], e.payload["reason"]) for e in refunded] == [
        ("10.00", "chipped"),
        ("15.00", "returned"),
    ]
    assert payment_events(order["id"]) == [
        "payment_authorized",
        "payment_captured",
        "payment_refunded",
        "payment_refunded",
    ]
    listed = api.get(f"/api/v1/orders/{order['id']}/payments/").json()
    assert [(p["status"], p["payment_intent"], len(p["refunds"])) for p in listed] == [("refunded", intent_id, 2)]


def test_every_stripe_write_carries_an_idempotency_key(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)
    ship(order["id"], shipment_id=7)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 7)
    api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "1.00"}, format="json")

    ours = [r for r in sandbox.requests if r.method == "POST" and r.path != "/v1/payment_intents"]
    assert [r.path.rsplit("/", 1)[-1] for r in ours] == ["capture", "refunds"]
    assert all(r.idempotency_key and r.idempotency_key.startswith("waybill-") for r in ours)


def test_a_second_shipment_does_not_capture_again(api, shop, sandbox, storefront, django_capture_on_commit_callbacks):
    intent_id = authorize(storefront, shop, amount=2000)
    order = place_paid(api, [("MUG", 2)], intent_id)
    ship(order["id"], shipment_id=1)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 1)
    ship(order["id"], shipment_id=2)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 2)

    assert [r.path for r in sandbox.requests if r.path.endswith("/capture")] == [
        f"/v1/payment_intents/{intent_id}/capture"
    ]
    assert OutboxEvent.objects.filter(topic="payment.captured").count() == 1


def test_partial_capture_when_the_rest_was_cancelled(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    # Given 1 mug (10.00) and 1 plate (25.00) authorized together for 35.00
    intent_id = authorize(storefront, shop, amount=3500)
    order = place_paid(api, [("MUG", 1), ("PLATE", 1)], intent_id)
    plate = next(line for line in order["lines"] if line["sku"] == "PLATE")
    # When the plate is cancelled and the mug ships
    cancelled = api.post(f"/api/v1/orders/{order['id']}/lines/{plate['id']}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    ship(order["id"], shipment_id=3)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 3)

    # Then only the mug is captured; Stripe releases the rest of the authorization
    intent = storefront.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount_received) == ("succeeded", 1000)
    payment = Payment.objects.get(order_id=order["id"])
    assert (payment.amount_authorized.amount, payment.amount_captured.amount) == (Decimal("35"), Decimal("10"))
    event = OrderEvent.objects.get(order_id=order["id"], type=EventType.PAYMENT_CAPTURED)
    assert (event.data["amount"], event.data["released"]) == ("10.00", "25.00")


def test_cancellation_voids_the_authorization(api, shop, sandbox, storefront, django_capture_on_commit_callbacks):
    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)

    response = api.post(f"/api/v1/orders/{order['id']}/cancel/", {"reason": "changed my mind"}, format="json")
    assert response.status_code == 200
    run_outbox(django_capture_on_commit_callbacks, "order.cancelled", order["id"])

    intent = storefront.v1.payment_intents.retrieve(intent_id)
    assert (intent.status, intent.amount_capturable) == ("canceled", 0)
    payment = Payment.objects.get(order_id=order["id"])
    assert payment.status == PaymentState.VOIDED and payment.voided_at is not None
    assert Order.objects.get(pk=order["id"]).payment_status == "voided"
    voided = OrderEvent.objects.get(order_id=order["id"], type=EventType.PAYMENT_VOIDED)
    assert voided.data["reason"] == "changed my mind"
    assert not OutboxEvent.objects.filter(topic__in=("payment.captured", "payment.refunded")).exists()


def test_cancelling_after_a_manual_capture_refunds_it(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=Actor.system("test"))

    api.post(f"/api/v1/orders/{order['id']}/cancel/", {}, format="json")
    run_outbox(django_capture_on_commit_callbacks, "order.cancelled", order["id"])

    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.amount.amount, refund.reason) == ("succeeded", Decimal("10"), "Order cancelled")
    assert storefront.v1.charges.retrieve(storefront.v1.payment_intents.retrieve(intent_id).latest_charge).refunded


def test_cancelling_a_line_after_a_manual_capture_refunds_that_line_once(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    intent_id = authorize(storefront, shop, amount=3500)
    order = place_paid(api, [("MUG", 1), ("PLATE", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=Actor.system("test"))
    plate = next(line for line in order["lines"] if line["sku"] == "PLATE")

    cancelled = api.post(f"/api/v1/orders/{order['id']}/lines/{plate['id']}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.json()
    run_outbox(django_capture_on_commit_callbacks, "order.updated", order["id"])
    # The handler run again on the same event (a redelivery) refunds nothing more.
    event = OutboxEvent.objects.get(topic="order.updated", payload__change="line_cancelled")
    payment_refund_on_line_cancel(event)

    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.amount.amount) == ("succeeded", Decimal("25"))
    payment.refresh_from_db()
    assert (payment.amount_captured.amount, payment.amount_refunded.amount) == (Decimal("35"), Decimal("25"))
    assert Order.objects.get(pk=order["id"]).payment_status == "partially_refunded"
