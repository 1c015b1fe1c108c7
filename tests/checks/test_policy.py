"""Checks before entry through the API: each limit refuses with 400, the field that broke
it, and nothing written."""

import pytest

from core.models import OutboxEvent
from inventory.models import Product, Stock
from orders.models import Allocation, Order, OrderPolicy
from tests.factories import order_body


@pytest.fixture
def policy(shop):
    return OrderPolicy.objects.create(seller=shop)


def assert_refused(api, body, field: str, message: str):
    outbox = OutboxEvent.objects.count()
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400, response.json()
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert payload["details"][field] == [message]
    assert not Order.objects.exists()
    assert not Allocation.objects.exists()
    assert set(Stock.objects.values_list("allocated", flat=True)) == {0}
    assert OutboxEvent.objects.count() == outbox


def created(api, body) -> dict:
    response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_max_order_value_per_currency(api, policy):
    policy.max_order_values = {"USD": "50.00"}
    policy.save()

    assert_refused(
        api, order_body([("MUG", 6)]), "total", "Orders above 50.00 USD are not accepted; this one is 60.00."
    )
    assert created(api, order_body([("MUG", 5)]))["total"] == {"amount": "50.00", "currency": "USD"}


def test_max_quantity_per_line(api, policy):
    policy.max_line_quantity = 3
    policy.save()

    assert_refused(api, order_body([("MUG", 3), ("TEA", 4)]), "lines.1.quantity", "At most 3 units per line.")
    created(api, order_body([("MUG", 3), ("TEA", 3)]))


def test_max_lines(api, policy):
    policy.max_lines = 1
    policy.save()

    assert_refused(api, order_body([("MUG", 1), ("TEA", 1)]), "lines", "At most 1 lines per order.")
    created(api, order_body([("MUG", 1)]))


def test_allowed_countries(api, policy):
    policy.allowed_countries = ["CA"]
    policy.save()

    assert_refused(api, order_body([("MUG", 1)]), "shipping_address.country", "Orders to US are not accepted.")
    policy.allowed_countries = ["CA", "US"]
    policy.save()
    created(api, order_body([("MUG", 1)]))


def test_blocked_countries(api, policy):
    policy.blocked_countries = ["US"]
    policy.save()

    assert_refused(api, order_body([("MUG", 1)]), "shipping_address.country", "Orders to US are not accepted.")


def test_a_product_restricted_for_the_destination(api, shop):
    Product.objects.filter(sku="TEA").update(restricted_countries=["US"])

    assert_refused(api, order_body([("MUG", 1), ("TEA", 1)]), "lines.1.sku", "'TEA' cannot be shipped to US.")


def test_every_policy_problem_is_listed_at_once(api, policy):
    policy.max_line_quantity = 1
    policy.blocked_countries = ["US"]
    policy.save()

    response = api.post("/api/v1/orders/", order_body([("MUG", 2)]), format="json")

    assert set(response.json()["details"]) == {"lines.0.quantity", "shipping_address.country"}


def test_no_policy_is_no_limit(api, shop):
    created(api, order_body([("MUG", 100)]))
