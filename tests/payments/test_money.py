"""Amounts cross to Stripe in the currency's ISO 4217 minor unit and come back exact:
JPY has no decimals, USD two, KWD three."""

from decimal import Decimal

import pytest

from orders.payments.models import Payment
from tests.factories import order_body
from tests.payments.conftest import authorize, run_outbox, ship

pytestmark = pytest.mark.django_db

CASES = [
    # currency, unit price, shipping, expected total in minor units, smallest refund, in minor units
    ("JPY", "1500", "300", 3300, "1", 1),
    ("USD", "12.34", "0.99", 2567, "0.01", 1),
    ("KWD", "1.234", "0.500", 2968, "0.001", 1),
]


@pytest.mark.parametrize("currency, unit_price, shipping, units, smallest, smallest_units", CASES)
def test_an_order_round_trips_to_the_exact_minor_unit(
    api,
    shop,
    sandbox,
    storefront,
    django_capture_on_commit_callbacks,
    currency,
    unit_price,
    shipping,
    units,
    smallest,
    smallest_units,
):
    # Given an intent for exactly the order's total in minor units
    intent_id = authorize(storefront, shop, amount=units, currency=currency.lower())
    body = order_body([("MUG", 2)], currency=currency, shipping_total=shipping, payment_intent=intent_id)
    body["lines"][0]["unit_price"] = unit_price
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    order = response.json()
    total = Decimal(unit_price) * 2 + Decimal(shipping)
    assert Decimal(order["total"]["amount"]) == total

    # When it ships and the smallest possible amount is refunded
    ship(order["id"], shipment_id=9)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 9)
    refund = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": smallest}, format="json")
    assert refund.status_code == 201, refund.json()

    # Then Stripe saw integers in minor units and Waybill holds the same amounts exactly
    intent = storefront.v1.payment_intents.retrieve(intent_id)
    assert (intent.currency, intent.amount, intent.amount_received) == (currency.lower(), units, units)
    charge = storefront.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount_refunded == smallest_units
    payment = Payment.objects.get(order_id=order["id"])
    assert payment.currency == currency
    assert (payment.amount_authorized.amount, payment.amount_captured.amount) == (total, total)
    assert payment.amount_refunded.amount == Decimal(smallest)
    assert refund.json()["amount"] == {"amount": smallest, "currency": currency}


@pytest.mark.parametrize(
    "currency, unit_price, amount", [("JPY", "1000", "0.5"), ("USD", "10.00", "0.005"), ("KWD", "1.000", "0.0005")]
)
def test_a_refund_finer_than_the_minor_unit_is_refused(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks, currency, unit_price, amount
):
    units = int(Decimal(unit_price).scaleb({"JPY": 0, "USD": 2, "KWD": 3}[currency]))
    intent_id = authorize(storefront, shop, amount=units, currency=currency.lower())
    body = order_body([("MUG", 1)], currency=currency, payment_intent=intent_id)
    body["lines"][0]["unit_price"] = unit_price
    order = api.post("/api/v1/orders/", body, format="json").json()
    ship(order["id"], shipment_id=5)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 5)
    calls = len(sandbox.requests)

    response = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": amount}, format="json")

    assert (response.status_code, list(response.json()["details"])) == (400, ["amount"])
    assert len(sandbox.requests) == calls
