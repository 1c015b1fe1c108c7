"""An order placed with a payment_intent is accepted only if Stripe says the intent pays
for exactly this order; otherwise it is refused with the reasons and nothing is written."""

import pytest

from core.models import OutboxEvent
from orders.models import Order
from orders.payments.gateway import IntentSnapshot
from orders.payments.models import Payment
from orders.payments.services import intent_problems
from tests.factories import order_body, place
from tests.payments.conftest import authorize, place_paid

pytestmark = pytest.mark.django_db


def refused(api, body) -> dict:
    orders, payments, outbox = Order.objects.count(), Payment.objects.count(), OutboxEvent.objects.count()
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code in (400, 409, 422), response.json()
    assert (Order.objects.count(), Payment.objects.count(), OutboxEvent.objects.count()) == (orders, payments, outbox)
    return {"status": response.status_code, **response.json()}


def test_an_amount_mismatch_is_refused_and_writes_nothing(api, shop, sandbox, storefront):
    intent_id = authorize(storefront, shop, amount=1999)  # the order totals 20.00

    error = refused(api, order_body([("MUG", 2)], payment_intent=intent_id))

    assert (error["status"], error["code"]) == (422, "payment_intent_mismatch")
    assert error["details"] == {
        "amount": ["The PaymentIntent is for 19.99 USD (1999 in minor units); the order totals 20.00 USD (2000)."]
    }
    # Stripe was only asked, never written to: the intent is still authorized.
    assert [r.method for r in sandbox.requests if r.path.startswith(f"/v1/payment_intents/{intent_id}")] == ["GET"]
    assert storefront.v1.payment_intents.retrieve(intent_id).status == "requires_capture"


@pytest.mark.parametrize(
    "intent_args, field",
    [
        ({"amount": 1000, "currency": "eur"}, "currency"),
        ({"amount": 1000, "waybill_seller": "someone-else"}, "metadata.waybill_seller"),
        ({"amount": 1000, "waybill_external_id": "WEB-2"}, "metadata.waybill_external_id"),
    ],
)
def test_currency_seller_and_order_reference_must_match(api, shop, sandbox, storefront, intent_args, field):
    params = {"amount": intent_args.pop("amount"), "currency": intent_args.pop("currency", "usd")}
    metadata = {"waybill_seller": shop.slug, **intent_args}
    intent = storefront.v1.payment_intents.create(
        params={
            **params,
            "capture_method": "manual",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": metadata,
        }
    )

    error = refused(api, order_body([("MUG", 1)], payment_intent=intent.id, external_id="WEB-1"))

    assert error["code"] == "payment_intent_mismatch" and list(error["details"]) == [field]


def test_an_intent_not_authorized_for_manual_capture_is_refused(api, shop, sandbox, storefront):
    automatic = storefront.v1.payment_intents.create(
        params={
            "amount": 1000,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": {"waybill_seller": shop.slug},
        }
    )
    error = refused(api, order_body([("MUG", 1)], payment_intent=automatic.id))
    assert set(error["details"]) == {"status", "capture_method"}


def test_an_unknown_or_reused_intent_is_refused(api, shop, sandbox, storefront):
    unknown = refused(api, order_body([("MUG", 1)], payment_intent="pi_doesnotexist"))
    assert (unknown["status"], unknown["details"]) == (422, {"payment_intent": ["No such PaymentIntent."]})
    not_an_intent = refused(api, order_body([("MUG", 1)], payment_intent="ch_123"))
    assert (not_an_intent["status"], not_an_intent["code"]) == (400, "validation_error")

    intent_id = authorize(storefront, shop, amount=1000)
    place_paid(api, [("MUG", 1)], intent_id)
    again = api.post("/api/v1/orders/", order_body([("MUG", 1)], payment_intent=intent_id), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "payment_intent_in_use")
    assert Order.objects.count() == 1


def test_stripe_unreachable_refuses_the_order_with_a_503(api, shop, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    response = api.post("/api/v1/orders/", order_body([("MUG", 1)], payment_intent="pi_123"), format="json")
    assert (response.status_code, response.json()["code"]) == (503, "payment_provider_unavailable")
    assert not Order.objects.exists()


def test_an_idempotent_retry_replays_without_asking_stripe_again(api, shop, sandbox, storefront):
    intent_id = authorize(storefront, shop, amount=1000)
    body = order_body([("MUG", 1)], payment_intent=intent_id)
    first = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    asked = len(sandbox.requests)
    second = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert (first.status_code, second.status_code, second["Idempotent-Replayed"]) == (201, 201, "true")
    assert second.json() == first.json() and first.json()["payment_status"] == "authorized"
    assert len(sandbox.requests) == asked and Payment.objects.count() == 1


def test_marketplace_orders_are_paid_externally_without_stripe(api, shop, sandbox):
    order = place(shop, [("MUG", 1)], channel="amazon", external_id="111-222", paid_externally=True)
    assert order.payment_status == "paid_externally" and not Payment.objects.exists()

    contradiction = api.post(
        "/api/v1/orders/", order_body([("MUG", 1)], payment_intent="pi_123", paid_externally=True), format="json"
    )
    assert contradiction.status_code == 400
    assert contradiction.json()["details"] == {"payment_intent": ["An order paid externally takes no payment_intent."]}
    assert sandbox.requests == []


def snapshot(**fields) -> IntentSnapshot:
    base = {
        "id": "pi_1",
        "status": "requires_capture",
        "capture_method": "manual",
        "amount": 1000,
        "amount_capturable": 1000,
        "amount_received": 0,
        "currency": "USD",
        "metadata": {"waybill_seller": "shop"},
        "latest_charge": "ch_1",
        "last_error": "",
        "observed_at": None,
    }
    return IntentSnapshot(**{**base, **fields})


def test_intent_problems_is_empty_only_for_a_matching_intent():
    check = {"amount": 1000, "currency": "USD", "seller_slug": "shop", "external_id": ""}
    assert intent_problems(snapshot(), **check) == {}
    assert set(intent_problems(snapshot(amount_capturable=500), **check)) == {"amount_capturable"}
    assert set(intent_problems(snapshot(status="canceled", amount_capturable=0), **check)) == {"status"}
    assert set(intent_problems(snapshot(currency="JPY"), **check)) == {"currency"}


@pytest.mark.parametrize("idempotency_key", [None, "k-1"])
def test_a_paid_order_with_a_known_external_id_is_a_duplicate_not_an_intent_in_use(
    api, shop, sandbox, storefront, idempotency_key
):
    """The order's rows are written with the payment's (core.fastsql.deferred_writes):
    their duplicate key must be reported as the order's, not as the intent's (review)."""
    place(shop, [("MUG", 1)], external_id="WEB-1")
    intent_id = authorize(storefront, shop, amount=1000)
    headers = {"HTTP_IDEMPOTENCY_KEY": idempotency_key} if idempotency_key else {}
    body = order_body([("MUG", 1)], payment_intent=intent_id, external_id="WEB-1")
    response = api.post("/api/v1/orders/", body, format="json", **headers)
    assert (response.status_code, response.json()["code"]) == (409, "duplicate_external_id"), response.json()
    assert Order.objects.filter(seller=shop).count() == 1 and not Payment.objects.exists()
