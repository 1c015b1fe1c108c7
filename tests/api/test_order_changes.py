import pytest

from core.models import OutboxEvent
from inventory.models import Stock
from orders.models import Allocation, EventType, Order
from tests.factories import ORDER_BODY, ProductFactory, WarehouseFactory, order_body, stocked

pytestmark = pytest.mark.django_db

NEW_ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "1 Harbour St",
    "city": "Toronto",
    "postal_code": "M5J 2N1",
    "country": "CA",
}


@pytest.fixture
def catalog(seller):
    us = WarehouseFactory(seller=seller, code="US-EAST", priority=1, ships_to=["US"])
    ca = WarehouseFactory(seller=seller, code="CA-TOR", priority=2, ships_to=["CA"])
    mug, cup = ProductFactory(seller=seller, sku="MUG"), ProductFactory(seller=seller, sku="CUP")
    for product in (mug, cup):
        stocked(product, us, 10)
        stocked(product, ca, 10)
    return {"us": us, "ca": ca, "mug": mug, "cup": cup}


def create(api, lines, **overrides):
    response = api.post("/api/v1/orders/", order_body(lines, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def allocated(product, warehouse):
    return Stock.objects.get(product=product, warehouse=warehouse).allocated


def test_a_new_address_abroad_reroutes_the_order(api, catalog):
    order = create(api, [("MUG", 2)])

    response = api.put(f"/api/v1/orders/{order['id']}/shipping-address/", NEW_ADDRESS, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["shipping_address"]["country"] == "CA"
    assert body["lines"][0]["allocations"] == [{"warehouse": "CA-TOR", "quantity": 2}]
    assert (allocated(catalog["mug"], catalog["us"]), allocated(catalog["mug"], catalog["ca"])) == (0, 2)
    types = [e["type"] for e in api.get(f"/api/v1/orders/{order['id']}/events/").json()]
    assert types[-2:] == [EventType.ADDRESS_CHANGED, EventType.STOCK_ALLOCATED]
    assert OutboxEvent.objects.filter(topic="order.updated", aggregate_id=str(order["id"])).count() == 1


def test_a_new_address_the_same_warehouse_serves_keeps_the_allocation(api, catalog):
    order = create(api, [("MUG", 2)])
    address = {**ORDER_BODY["shipping_address"], "line1": "99 Other Street"}

    body = api.put(f"/api/v1/orders/{order['id']}/shipping-address/", address, format="json").json()

    assert body["shipping_address"]["line1"] == "99 Other Street"
    assert body["lines"][0]["allocations"] == [{"warehouse": "US-EAST", "quantity": 2}]
    event = api.get(f"/api/v1/orders/{order['id']}/events/").json()[-1]
    assert event["type"] == "address_changed"
    assert event["data"]["before"]["line1"] == "12 Analytical Way"
    assert event["data"]["after"]["line1"] == "99 Other Street"


def test_an_address_no_warehouse_can_serve_is_refused_and_changes_nothing(api, catalog):
    order = create(api, [("MUG", 2)])
    events_before = len(api.get(f"/api/v1/orders/{order['id']}/events/").json())

    response = api.put(
        f"/api/v1/orders/{order['id']}/shipping-address/",
        {**NEW_ADDRESS, "country": "FR", "city": "Paris", "postal_code": "75001"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert Order.objects.get(pk=order["id"]).ship_country == "US"
    assert allocated(catalog["mug"], catalog["us"]) == 2
    assert len(api.get(f"/api/v1/orders/{order['id']}/events/").json()) == events_before


def test_an_invalid_address_is_a_400(api, catalog):
    order = create(api, [("MUG", 1)])

    response = api.put(
        f"/api/v1/orders/{order['id']}/shipping-address/", {**NEW_ADDRESS, "country": "QQ"}, format="json"
    )

    assert response.status_code == 400
    assert "shipping_address.country" in response.json()["details"]


def test_cancelling_part_of_a_line_releases_its_stock_and_lowers_the_total(api, catalog):
    order = create(api, [("MUG", 3), ("CUP", 1)], shipping_total="5.00")
    line = order["lines"][0]

    response = api.post(
        f"/api/v1/orders/{order['id']}/lines/{line['id']}/cancel/",
        {"quantity": 2, "reason": "out of colour"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert body["lines"][0]["quantity_cancelled"] == 2
    assert body["lines"][0]["quantity_allocated"] == 1
    assert body["lines"][0]["line_total"] == {"amount": "10.00", "currency": "USD"}
    assert body["subtotal"]["amount"] == "20.00" and body["total"]["amount"] == "25.00"
    assert body["lifecycle"] == "confirmed"
    assert allocated(catalog["mug"], catalog["us"]) == 1
    event = api.get(f"/api/v1/orders/{order['id']}/events/").json()[-1]
    assert event["type"] == "line_cancelled"
    assert event["data"]["released"] == [{"warehouse": "US-EAST", "product_id": catalog["mug"].pk, "quantity": 2}]


def test_cancelling_the_last_open_units_cancels_the_order(api, catalog):
    order = create(api, [("MUG", 1)])

    body = api.post(f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}/cancel/", {}, format="json").json()

    assert body["lifecycle"] == "cancelled"
    assert not Allocation.objects.filter(line__order_id=order["id"]).exists()
    assert OutboxEvent.objects.filter(topic="order.cancelled", aggregate_id=str(order["id"])).count() == 1


def test_line_changes_are_refused_once_the_order_is_closed(api, catalog):
    order = create(api, [("MUG", 2), ("CUP", 1)])
    api.post(f"/api/v1/orders/{order['id']}/cancel/", {}, format="json")

    responses = [
        api.post(f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}/cancel/", {}, format="json"),
        api.put(f"/api/v1/orders/{order['id']}/shipping-address/", NEW_ADDRESS, format="json"),
    ]

    assert [(r.status_code, r.json()["code"]) for r in responses] == [(409, "order_not_editable")] * 2


@pytest.mark.parametrize("quantity", [0, 3, -1])
def test_cancelling_more_than_is_open_is_a_400(api, catalog, quantity):
    order = create(api, [("MUG", 2)])

    response = api.post(
        f"/api/v1/orders/{order['id']}/lines/{order['lines'][0]['id']}/cancel/", {"quantity": quantity}, format="json"
    )

    assert response.status_code == 400
    assert allocated(catalog["mug"], catalog["us"]) == 2


def test_a_line_of_another_order_is_404(api, catalog):
    first, second = create(api, [("MUG", 1)]), create(api, [("CUP", 1)])

    response = api.post(f"/api/v1/orders/{first['id']}/lines/{second['lines'][0]['id']}/cancel/", {}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "line_not_found"


def test_the_timeline_of_another_sellers_order_is_404(api, catalog, other_seller):
    from tests.factories import place

    theirs = ProductFactory(seller=other_seller, sku="THEIRS")
    stocked(theirs, WarehouseFactory(seller=other_seller), 3)
    their_order = place(other_seller, [("THEIRS", 1)])

    assert api.get(f"/api/v1/orders/{their_order.pk}/events/").status_code == 404


def test_a_new_address_must_pass_the_destination_rules(api, seller, catalog):
    from orders.models import OrderPolicy

    OrderPolicy.objects.create(seller=seller, blocked_countries=["CA"])
    catalog["cup"].restricted_countries = ["GB"]
    catalog["cup"].save()
    order = create(api, [("MUG", 1), ("CUP", 1)])

    blocked = api.put(f"/api/v1/orders/{order['id']}/shipping-address/", NEW_ADDRESS, format="json")
    restricted = api.put(
        f"/api/v1/orders/{order['id']}/shipping-address/",
        {**NEW_ADDRESS, "country": "GB", "city": "London", "postal_code": "EC1A 1BB"},
        format="json",
    )

    assert blocked.status_code == 400 and "shipping_address.country" in blocked.json()["details"]
    assert restricted.status_code == 400 and "lines.1.sku" in restricted.json()["details"]
    assert Order.objects.get(pk=order["id"]).ship_country == "US"
