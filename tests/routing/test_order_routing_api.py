from decimal import Decimal

import pytest
from djmoney.money import Money

from orders.models import Order, OrderEvent
from sellers.models import RoutingStrategyChoice
from tests.factories import ProductFactory, WarehouseFactory, order_body, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_warehouses(seller):
    mug = ProductFactory(seller=seller, sku="MUG")
    near = WarehouseFactory(
        seller=seller, code="BOS", latitude=Decimal("42.4"), longitude=Decimal("-71.1"), handling_cost=Money(4, "USD")
    )
    far = WarehouseFactory(
        seller=seller, code="RNO", latitude=Decimal("39.53"), longitude=Decimal("-119.81"), priority=1
    )
    stocked(mug, near, 5)
    stocked(mug, far, 5)
    return near, far


def test_an_order_to_boston_is_allocated_from_the_warehouse_near_boston(api, seller, two_warehouses):
    response = api.post("/api/v1/orders/", order_body([("MUG", 2)]), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["lines"][0]["allocations"] == [{"warehouse": "BOS", "quantity": 2}]
    order = Order.objects.get()
    assert (order.ship_latitude, order.ship_longitude) == (Decimal("42.357600"), Decimal("-71.051400"))
    reason = OrderEvent.objects.get(order=order, type="stock_allocated").data["reason"]
    assert reason.startswith("BOS (cost ")


def test_a_seller_routing_by_priority_ships_from_reno(api, seller, two_warehouses):
    seller.routing_strategy = RoutingStrategyChoice.PRIORITY
    seller.save()

    response = api.post("/api/v1/orders/", order_body([("MUG", 2)]), format="json")

    assert response.json()["lines"][0]["allocations"] == [{"warehouse": "RNO", "quantity": 2}]


def test_coordinates_from_the_storefront_win_over_geocoding(api, seller, two_warehouses):
    body = order_body([("MUG", 1)])
    body["shipping_address"] = {**body["shipping_address"], "latitude": "39.60", "longitude": "-119.70"}

    response = api.post("/api/v1/orders/", body, format="json")

    assert response.json()["lines"][0]["allocations"] == [{"warehouse": "RNO", "quantity": 1}]
    assert Order.objects.get().ship_latitude == Decimal("39.600000")
