"""GET /orders/{id}/payments/: the order's payments with their refunds, for its seller
only, in a number of queries that does not grow with the refunds."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for
from tests.factories import order_body
from tests.payments.conftest import authorize, place_paid, run_outbox, ship

pytestmark = pytest.mark.django_db


def test_payments_of_an_order_with_their_refunds(
    api, shop, sandbox, storefront, other_seller, django_capture_on_commit_callbacks
):
    intent_id = authorize(storefront, shop, amount=3000)
    order = place_paid(api, [("MUG", 3)], intent_id)
    url = f"/api/v1/orders/{order['id']}/payments/"
    with CaptureQueriesContext(connection) as before_refunds:
        api.get(url)
    ship(order["id"], shipment_id=2)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 2)
    for amount in ("1.00", "2.00", "3.00"):
        api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": amount, "reason": "goodwill"}, format="json")

    with CaptureQueriesContext(connection) as after_refunds:
        listed = api.get(url).json()

    assert len(after_refunds) == len(before_refunds)
    (payment,) = listed
    assert (payment["provider"], payment["payment_intent"], payment["status"]) == (
        "stripe",
        intent_id,
        "partially_refunded",
    )
    assert payment["charge"].startswith("ch_")
    assert (payment["amount_captured"], payment["amount_refunded"]) == (
        {"amount": "30.00", "currency": "USD"},
        {"amount": "6.00", "currency": "USD"},
    )
    assert [r["amount"]["amount"] for r in payment["refunds"]] == ["1.00", "2.00", "3.00"]
    assert all(r["stripe_refund_id"].startswith("re_") for r in payment["refunds"])
    assert client_for(other_seller).get(url).status_code == 404


def test_an_order_without_a_payment_lists_none(api, shop, sandbox):
    response = api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json")
    assert response.status_code == 201 and response.json()["payment_status"] == "unpaid"
    assert api.get(f"/api/v1/orders/{response.json()['id']}/payments/").json() == []
    assert sandbox.requests == []
