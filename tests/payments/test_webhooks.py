"""Stripe's webhooks, as the local Stripe signs and sends them: verified by the real
library, applied once per event id, in any order, never a 500."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.actor import Actor
from core.models import OutboxEvent
from orders.models import EventType, HoldKind, Order, OrderEvent, OrderHold
from orders.payments.models import Payment, PaymentState, Refund, StripeEvent
from orders.payments.sandbox.signing import signature_header
from orders.payments.services import payment_capture
from orders.payments.services.sweep import payments_sweep
from tests.payments.conftest import WEBHOOK_URL, authorize, deliver, place_paid, run_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(api, shop, sandbox, storefront):
    intent_id = authorize(storefront, shop, amount=2000)
    order = place_paid(api, [("MUG", 2)], intent_id)
    return order, intent_id


def outcome(response) -> str:
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def test_a_dispute_puts_the_order_on_hold_with_the_reason(client, paid_order, sandbox):
    order, intent_id = paid_order
    sandbox.state.dispute_create(payment_intent=intent_id, reason="product_not_received")
    (event,) = sandbox.events_of("charge.dispute.created")

    assert outcome(deliver(client, sandbox, event)) == "processed"

    held = Order.objects.get(pk=order["id"])
    assert held.lifecycle == "on_hold"
    hold = OrderHold.objects.get(order=held)
    assert (hold.kind, hold.reason) == (HoldKind.DISPUTE, "Payment disputed: product_not_received")
    opened = OrderEvent.objects.get(order=held, type=EventType.DISPUTE_OPENED)
    assert (opened.data["reason"], opened.data["amount"], opened.actor_label) == (
        "product_not_received",
        "20.00",
        "stripe",
    )
    assert Payment.objects.get(order=held).dispute_reason == "product_not_received"


def test_the_same_event_delivered_twice_is_processed_once(client, paid_order, sandbox):
    order, intent_id = paid_order
    sandbox.state.dispute_create(payment_intent=intent_id, reason="fraudulent")
    (event,) = sandbox.events_of("charge.dispute.created")

    first = outcome(deliver(client, sandbox, event))
    writes_before = (OrderEvent.objects.count(), OrderHold.objects.count(), OutboxEvent.objects.count())
    second = outcome(deliver(client, sandbox, event))

    assert (first, second) == ("processed", "duplicate")
    assert (OrderEvent.objects.count(), OrderHold.objects.count(), OutboxEvent.objects.count()) == writes_before
    assert OrderEvent.objects.filter(order_id=order["id"], type=EventType.DISPUTE_OPENED).count() == 1
    assert StripeEvent.objects.get(event_id=event["id"]).outcome == "processed"


@pytest.mark.parametrize(
    "signing",
    [
        {"secret": "whsec_forged"},
        {"timestamp": int(time.time()) - 3600},  # a replay of an old delivery
    ],
    ids=["forged", "stale"],
)
def test_a_forged_or_stale_signature_is_rejected_and_writes_nothing(client, paid_order, sandbox, signing):
    order, intent_id = paid_order
    sandbox.state.dispute_create(payment_intent=intent_id)
    (event,) = sandbox.events_of("charge.dispute.created")
    events_before = OrderEvent.objects.count()

    with CaptureQueriesContext(connection) as queries:
        response = deliver(client, sandbox, event, **signing)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert not StripeEvent.objects.exists() and OrderEvent.objects.count() == events_before
    assert Order.objects.get(pk=order["id"]).lifecycle == "confirmed"
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_tampered_body_or_missing_header_is_rejected(client, paid_order, sandbox):
    _, intent_id = paid_order
    sandbox.state.dispute_create(payment_intent=intent_id)
    (event,) = sandbox.events_of("charge.dispute.created")
    body, header = sandbox.signed(event)
    tampered = body.replace(b'"fraudulent"', b'"general"')

    forged = client.post(WEBHOOK_URL, data=tampered, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    unsigned = client.post(WEBHOOK_URL, data=body, content_type="application/json")

    assert (forged.status_code, unsigned.status_code) == (400, 400)
    assert not StripeEvent.objects.exists()


def test_unknown_types_and_unknown_intents_are_acknowledged(client, shop, sandbox, storefront):
    foreign = storefront.v1.payment_intents.create(
        params={"amount": 500, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"}
    )
    created = sandbox.events_of("payment_intent.created")[0]
    succeeded = next(
        e for e in sandbox.events_of("payment_intent.succeeded") if e["data"]["object"]["id"] == foreign.id
    )

    assert outcome(deliver(client, sandbox, created)) == "ignored"
    assert outcome(deliver(client, sandbox, succeeded)) == "unknown_payment"
    assert StripeEvent.objects.count() == 2


def test_a_signed_body_that_is_not_an_event_is_a_400_not_a_500(client, sandbox):
    body = b'{"hello": "world"}'
    header = signature_header(body, sandbox.webhook_secret)

    response = client.post(WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_payload")
    assert not StripeEvent.objects.exists()


def test_a_capture_seen_first_by_webhook_is_applied_once(client, paid_order, sandbox, storefront):
    order, intent_id = paid_order
    # Captured in the Stripe dashboard; the webhook is how Waybill hears of it.
    storefront.v1.payment_intents.capture(intent_id, params={"amount_to_capture": 1500})
    (succeeded,) = sandbox.events_of("payment_intent.succeeded")

    assert outcome(deliver(client, sandbox, succeeded)) == "processed"
    payment = Payment.objects.get(order_id=order["id"])
    assert (payment.status, payment.amount_captured.amount) == (PaymentState.CAPTURED, Decimal("15"))
    assert Order.objects.get(pk=order["id"]).payment_status == "paid"

    # A later capture by Waybill (the order ships) finds it done and asks Stripe nothing.
    calls = len(sandbox.requests)
    payment_capture(payment_id=payment.pk, actor=Actor.system("test"))
    assert len(sandbox.requests) == calls
    assert OutboxEvent.objects.filter(topic="payment.captured").count() == 1


def test_refunds_out_of_order_count_each_cent_once(client, paid_order, sandbox, storefront):
    order, intent_id = paid_order
    storefront.v1.payment_intents.capture(intent_id)
    for event in sandbox.events_of("payment_intent.succeeded"):
        deliver(client, sandbox, event)
    # Two refunds made in the dashboard: 5.00, then 7.00
    storefront.v1.refunds.create(params={"payment_intent": intent_id, "amount": 500})
    storefront.v1.refunds.create(params={"payment_intent": intent_id, "amount": 700, "reason": "duplicate"})
    older, newer = sandbox.events_of("charge.refunded")

    # The newer event arrives first and already tells the whole story (12.00)
    assert outcome(deliver(client, sandbox, newer)) == "processed"
    assert outcome(deliver(client, sandbox, older)) == "stale"

    payment = Payment.objects.get(order_id=order["id"])
    assert (payment.status, payment.amount_refunded.amount) == (PaymentState.PARTIALLY_REFUNDED, Decimal("12"))
    (refund,) = Refund.objects.filter(payment=payment)
    assert (refund.origin, refund.amount.amount) == ("stripe", Decimal("12"))
    assert Order.objects.get(pk=order["id"]).payment_status == "partially_refunded"


def test_our_own_refund_webhook_adds_nothing(
    api, client, paid_order, sandbox, storefront, django_capture_on_commit_callbacks
):
    order, intent_id = paid_order
    storefront.v1.payment_intents.capture(intent_id)
    deliver(client, sandbox, sandbox.events_of("payment_intent.succeeded")[0])
    api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "3.00"}, format="json")
    (refunded,) = sandbox.events_of("charge.refunded")

    assert outcome(deliver(client, sandbox, refunded)) == "stale"
    assert Refund.objects.count() == 1
    assert Payment.objects.get(order_id=order["id"]).amount_refunded.amount == Decimal("3")


def test_a_late_failure_of_an_earlier_attempt_is_ignored(api, client, shop, sandbox, storefront):
    # The customer's first card is declined, the second authorizes the same intent.
    intent = storefront.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "capture_method": "manual",
            "metadata": {"waybill_seller": shop.slug},
        }
    )
    with pytest.raises(Exception, match="declined"):
        storefront.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_chargeDeclined"})
    storefront.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa"})
    order = place_paid(api, [("MUG", 1)], intent.id)
    (failed,) = sandbox.events_of("payment_intent.payment_failed")

    assert outcome(deliver(client, sandbox, failed)) == "stale"
    assert Order.objects.get(pk=order["id"]).lifecycle == "confirmed"
    assert Payment.objects.get(order_id=order["id"]).status == PaymentState.AUTHORIZED


def test_an_authorization_canceled_at_stripe_voids_and_holds_a_live_order(client, paid_order, sandbox, storefront):
    order, intent_id = paid_order
    storefront.v1.payment_intents.cancel(intent_id, params={"cancellation_reason": "abandoned"})
    (canceled,) = sandbox.events_of("payment_intent.canceled")

    assert outcome(deliver(client, sandbox, canceled)) == "processed"
    held = Order.objects.get(pk=order["id"])
    assert (held.payment_status, held.lifecycle) == ("voided", "on_hold")
    assert OrderHold.objects.get(order=held).kind == HoldKind.PAYMENT_FAILED


def test_an_event_stored_but_never_applied_is_applied_by_a_redelivery(client, paid_order, sandbox):
    # A crash right after the event was stored: it is kept, unprocessed.
    _, intent_id = paid_order
    sandbox.state.dispute_create(payment_intent=intent_id)
    (event,) = sandbox.events_of("charge.dispute.created")
    StripeEvent.objects.create(event_id=event["id"], type=event["type"], stripe_created=timezone.now(), payload=event)

    assert outcome(deliver(client, sandbox, event)) == "processed"
    assert outcome(deliver(client, sandbox, event)) == "duplicate"
    assert OrderEvent.objects.filter(type=EventType.DISPUTE_OPENED).count() == 1


def test_the_sweep_applies_events_left_unprocessed(paid_order, sandbox, django_capture_on_commit_callbacks):
    _, intent_id = paid_order
    sandbox.state.dispute_create(payment_intent=intent_id)
    (event,) = sandbox.events_of("charge.dispute.created")
    stored = StripeEvent.objects.create(
        event_id=event["id"], type=event["type"], stripe_created=timezone.now(), payload=event
    )
    StripeEvent.objects.filter(pk=stored.pk).update(received_at=timezone.now() - timedelta(minutes=5))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        counts = payments_sweep()
    run_tasks(callbacks)

    assert counts["events"] == 1
    stored.refresh_from_db()
    assert (stored.outcome, stored.attempts) == ("processed", 1)
    assert OrderEvent.objects.filter(type=EventType.DISPUTE_OPENED).count() == 1
