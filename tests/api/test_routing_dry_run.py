from decimal import Decimal

import pytest
from django.db.models import Sum
from djmoney.money import Money

from core.models import OutboxEvent
from inventory.models import Stock
from orders.models import Allocation, Order, OrderEvent
from sellers.models import ApiScope, RoutingStrategyChoice
from tests.conftest import client_for
from tests.factories import ProductFactory, WarehouseFactory, order_body, stocked

pytestmark = pytest.mark.django_db

URL = "/api/v1/routing/dry-run/"
BOSTON = {"country": "US", "postal_code": "02110", "city": "Boston"}


def dry_run_body(lines, **address):
    return {"shipping_address": {**BOSTON, **address}, "lines": [{"sku": s, "quantity": q} for s, q in lines]}


def allocated_total():
    return Stock.objects.aggregate(total=Sum("allocated"))["total"] or 0


@pytest.fixture
def catalogue(seller):
    """MUG everywhere; PLATE only in the far warehouse, so a MUG+PLATE basket ships from RNO alone."""
    mug = ProductFactory(seller=seller, sku="MUG")
    plate = ProductFactory(seller=seller, sku="PLATE")
    bowl = ProductFactory(seller=seller, sku="BOWL")
    bos = WarehouseFactory(
        seller=seller, code="BOS", latitude=Decimal("42.4"), longitude=Decimal("-71.1"), handling_cost=Money(4, "USD")
    )
    rno = WarehouseFactory(seller=seller, code="RNO", latitude=Decimal("39.53"), longitude=Decimal("-119.81"))
    stocked(mug, bos, 5)
    stocked(mug, rno, 5)
    stocked(plate, rno, 3)
    stocked(bowl, bos, 2)
    return {"BOS": bos, "RNO": rno}


def test_the_dry_run_names_the_warehouses_a_real_placement_then_uses(api, catalogue):
    baskets = [[("MUG", 2)], [("MUG", 1), ("PLATE", 2)], [("PLATE", 1), ("BOWL", 1)]]
    for basket in baskets:
        response = api.post(URL, dry_run_body(basket), format="json")
        assert response.status_code == 200, response.content
        previewed = {
            (shipment["warehouse"], line["sku"], line["quantity"])
            for shipment in response.json()["shipments"]
            for line in shipment["lines"]
        }

        placed = api.post("/api/v1/orders/", order_body(basket), format="json")
        assert placed.status_code == 201, placed.content
        allocated = {
            (allocation["warehouse"], line["sku"], allocation["quantity"])
            for line in placed.json()["lines"]
            for allocation in line["allocations"]
        }
        assert previewed == allocated


def test_the_response_explains_the_route(api, catalogue):
    body = api.post(URL, dry_run_body([("MUG", 2)]), format="json").json()

    assert body["strategy"] == "optimal"
    assert body["destination"] == {
        "country": "US",
        "latitude": "42.357600",
        "longitude": "-71.051400",
        "located_by": "postal_code",
    }
    [shipment] = body["shipments"]
    assert shipment["warehouse"] == "BOS"
    assert shipment["lines"] == [{"sku": "MUG", "quantity": 2}]
    assert 0 < shipment["distance_km"] < 20
    assert Decimal(shipment["cost"]) >= Decimal("4.00")
    assert body["shortages"] == []
    assert body["reason"].startswith("BOS (cost ")


def test_a_split_basket_lists_one_shipment_per_warehouse(api, catalogue):
    body = api.post(URL, dry_run_body([("PLATE", 1), ("BOWL", 1)]), format="json").json()

    assert sorted(s["warehouse"] for s in body["shipments"]) == ["BOS", "RNO"]


def test_the_seller_strategy_is_used(api, seller, catalogue):
    seller.routing_strategy = RoutingStrategyChoice.PRIORITY
    seller.save()
    catalogue["RNO"].priority = 1
    catalogue["RNO"].save()

    body = api.post(URL, dry_run_body([("MUG", 1)]), format="json").json()

    assert body["strategy"] == "priority"
    assert [s["warehouse"] for s in body["shipments"]] == ["RNO"]


def test_storefront_coordinates_win_and_an_unlocated_address_still_routes(api, catalogue):
    near_reno = api.post(URL, dry_run_body([("MUG", 1)], latitude="39.6", longitude="-119.7"), format="json").json()
    assert near_reno["destination"]["located_by"] == "storefront"
    assert [s["warehouse"] for s in near_reno["shipments"]] == ["RNO"]

    nowhere = api.post(URL, dry_run_body([("MUG", 1)], postal_code="", city="Nowhere-on-Sea"), format="json").json()
    assert nowhere["destination"]["located_by"] == ""
    assert nowhere["destination"]["latitude"] is None
    assert [s["distance_km"] for s in nowhere["shipments"]] == [None]


def test_a_dry_run_reserves_nothing_and_writes_nothing(api, catalogue):
    before = list(Stock.objects.order_by("pk").values_list("on_hand", "allocated"))

    response = api.post(URL, dry_run_body([("MUG", 2), ("PLATE", 1)]), format="json")

    assert response.status_code == 200
    assert list(Stock.objects.order_by("pk").values_list("on_hand", "allocated")) == before
    assert allocated_total() == 0
    assert Order.objects.count() == OrderEvent.objects.count() == Allocation.objects.count() == 0
    assert not OutboxEvent.objects.filter(topic__startswith="order.").exists()


def test_shortages_are_reported_instead_of_refused(api, catalogue):
    response = api.post(URL, dry_run_body([("MUG", 12), ("BOWL", 1)]), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shortages"] == [{"sku": "MUG", "requested": 12, "available": 10}]
    shipped = {(s["warehouse"], line["sku"], line["quantity"]) for s in body["shipments"] for line in s["lines"]}
    assert shipped == {("BOS", "MUG", 5), ("RNO", "MUG", 5), ("BOS", "BOWL", 1)}
    assert allocated_total() == 0


def test_allocated_stock_is_not_offered_again(api, seller, catalogue):
    api.post("/api/v1/orders/", order_body([("PLATE", 3)]), format="json")

    body = api.post(URL, dry_run_body([("PLATE", 1)]), format="json").json()

    assert body["shipments"] == []
    assert body["shortages"] == [{"sku": "PLATE", "requested": 1, "available": 0}]


def test_a_warehouse_that_does_not_ship_to_the_country_is_not_used(api, catalogue):
    catalogue["BOS"].ships_to = ["CA"]
    catalogue["BOS"].save()

    body = api.post(URL, dry_run_body([("MUG", 1), ("BOWL", 1)]), format="json").json()

    assert [s["warehouse"] for s in body["shipments"]] == ["RNO"]
    assert body["shortages"] == [{"sku": "BOWL", "requested": 1, "available": 0}]


def test_an_inactive_warehouse_is_not_used(api, catalogue):
    catalogue["BOS"].is_active = False
    catalogue["BOS"].save()

    body = api.post(URL, dry_run_body([("MUG", 1)]), format="json").json()

    assert [s["warehouse"] for s in body["shipments"]] == ["RNO"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (dry_run_body([("NOPE", 1)]), "lines.0.sku"),
        (dry_run_body([("MUG", 1), ("NOPE", 1)]), "lines.1.sku"),
        (dry_run_body([("MUG", 1)], country="XX"), "shipping_address.country"),
        (dry_run_body([("MUG", 0)]), "lines.0.quantity"),
        (dry_run_body([]), "lines"),
        (dry_run_body([("MUG", 1)], latitude="42.1"), "shipping_address.latitude"),
        ({"lines": [{"sku": "MUG", "quantity": 1}]}, "shipping_address"),
    ],
)
def test_bad_input_is_a_400_with_field_paths(api, catalogue, body, field):
    response = api.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    assert allocated_total() == 0


def test_another_sellers_skus_are_unknown(api, other_seller):
    theirs = ProductFactory(seller=other_seller, sku="THEIRS")
    stocked(theirs, WarehouseFactory(seller=other_seller), 5)

    response = api.post(URL, dry_run_body([("THEIRS", 1)]), format="json")

    assert response.status_code == 400
    assert response.json()["details"] == {"lines.0.sku": ["Unknown SKU 'THEIRS'."]}


def test_a_read_only_key_may_dry_run_and_a_key_without_products_read_may_not(seller, catalogue):
    read_only = client_for(seller, scopes=[ApiScope.PRODUCTS_READ])
    orders_only = client_for(seller, scopes=[ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE])

    assert read_only.post(URL, dry_run_body([("MUG", 1)]), format="json").status_code == 200
    refused = orders_only.post(URL, dry_run_body([("MUG", 1)]), format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
