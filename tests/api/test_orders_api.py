import pytest
from django.db.models import Sum

from core.models import OutboxEvent
from inventory.models import Stock
from orders.models import Order, OrderEvent
from sellers.models import ApiScope
from sellers.services import api_key_revoke
from tests.conftest import assert_error_shape, client_for
from tests.factories import ORDER_BODY, ProductFactory, WarehouseFactory, order_body, place, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug(seller):
    product = ProductFactory(seller=seller, sku="MUG")
    stocked(product, WarehouseFactory(seller=seller, code="EAST"), 10)
    return product


def assert_nothing_written():
    assert Order.objects.count() == 0
    assert OrderEvent.objects.count() == 0
    assert not OutboxEvent.objects.filter(topic__startswith="order.").exists()
    assert (Stock.objects.aggregate(total=Sum("allocated"))["total"] or 0) == 0


def test_create_returns_the_order_with_location(api, mug):
    response = api.post("/api/v1/orders/", order_body([("MUG", 2)], external_id="web-1"), format="json")

    assert response.status_code == 201
    body = response.json()
    assert response["Location"] == f"/api/v1/orders/{body['id']}/"
    assert body["number"] == 1
    assert body["lifecycle"] == "confirmed"
    assert body["total"] == {"amount": "20.00", "currency": "USD"}
    assert body["lines"][0]["allocations"] == [{"warehouse": "EAST", "quantity": 2}]
    assert api.get(response["Location"]).json()["id"] == body["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (order_body([("NOPE", 1)]), "lines.0.sku"),
        (order_body([("MUG", 0)]), "lines.0.quantity"),
        (order_body([("MUG", -3)]), "lines.0.quantity"),
        (order_body([("MUG", 1.5)]), "lines.0.quantity"),
        (order_body([]), "lines"),
        (order_body([("MUG", 1)], currency="XYZ"), "currency"),
        (order_body([("MUG", 1)], currency="JPY"), "lines.0.unit_price"),
        (
            {**order_body([("MUG", 1)]), "shipping_address": {"name": "A", "city": "Boston", "country": "US"}},
            "shipping_address.line1",
        ),
        (
            {**order_body([("MUG", 1)]), "shipping_address": {**ORDER_BODY["shipping_address"], "postal_code": ""}},
            "shipping_address.postal_code",
        ),
        (
            {**order_body([("MUG", 1)]), "shipping_address": {**ORDER_BODY["shipping_address"], "country": "XX"}},
            "shipping_address.country",
        ),
        ({k: v for k, v in order_body([("MUG", 1)]).items() if k != "shipping_address"}, "shipping_address"),
        (order_body([("MUG", 1)], shipping_total="-1"), "shipping_total"),
        (order_body([("MUG", 1)], shipping_total="1.001"), "shipping_total"),
        (order_body([("MUG", 1)], discount_total="500"), "discount_total"),
        (order_body([("MUG", 1)], channel="amazon"), "channel"),
    ],
)
def test_bad_input_is_a_400_with_field_details_and_writes_nothing(api, mug, body, field):
    response = api.post("/api/v1/orders/", body, format="json")

    error = assert_error_shape(response, 400, "validation_error")
    assert field in error["details"], error
    assert_nothing_written()


def test_malformed_json_is_a_400_and_writes_nothing(api, mug):
    response = api.post("/api/v1/orders/", '{"currency": "USD", "lines": [', content_type="application/json")

    assert_error_shape(response, 400, "malformed_request")
    assert_nothing_written()


def test_wrong_content_type_is_a_415_and_writes_nothing(api, mug):
    response = api.post("/api/v1/orders/", "currency=USD", content_type="application/x-www-form-urlencoded")

    assert_error_shape(response, 415, "unsupported_media_type")
    assert_nothing_written()


def test_insufficient_stock_is_a_409_naming_the_sku(api, mug):
    response = api.post("/api/v1/orders/", order_body([("MUG", 11)]), format="json")

    error = assert_error_shape(response, 409, "insufficient_stock")
    assert error["details"]["shortages"] == [{"sku": "MUG", "requested": 11, "available": 10}]
    assert_nothing_written()


def test_another_sellers_order_and_product_are_404(api, seller, other_seller):
    theirs = ProductFactory(seller=other_seller, sku="THEIRS")
    stocked(theirs, WarehouseFactory(seller=other_seller), 5)
    their_order = place(other_seller, [("THEIRS", 1)])

    for response in (
        api.get(f"/api/v1/orders/{their_order.pk}/"),
        api.post(f"/api/v1/orders/{their_order.pk}/cancel/", {}, format="json"),
        api.get(f"/api/v1/products/{theirs.pk}/"),
    ):
        assert response.status_code == 404
        assert "THEIRS" not in response.content.decode()
    assert api.get("/api/v1/orders/").json()["results"] == []
    assert api.get("/api/v1/products/").json()["results"] == []
    assert Order.objects.get(pk=their_order.pk).lifecycle == "confirmed"
    # Their SKU is unknown to us: ordering it is a validation error, not a leak.
    response = api.post("/api/v1/orders/", order_body([("THEIRS", 1)]), format="json")
    assert "lines.0.sku" in assert_error_shape(response, 400, "validation_error")["details"]


def test_cancel_releases_stock_and_a_second_cancel_is_409(api, mug):
    order_id = api.post("/api/v1/orders/", order_body([("MUG", 3)]), format="json").json()["id"]

    response = api.post(f"/api/v1/orders/{order_id}/cancel/", {"reason": "changed mind"}, format="json")

    assert response.status_code == 200
    assert response.json()["lifecycle"] == "cancelled"
    assert response.json()["cancel_reason"] == "changed mind"
    assert Stock.objects.get(product=mug).allocated == 0
    again = api.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    assert assert_error_shape(again, 409, "invalid_transition")["details"] == {
        "current": "cancelled",
        "requested": "cancelled",
    }


def test_requests_without_a_valid_key_are_401(seller, mug):
    from rest_framework.test import APIClient

    anonymous = APIClient()
    assert_error_shape(anonymous.get("/api/v1/orders/"), 401, "not_authenticated")
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer wb_nope_nope")
    assert_error_shape(anonymous.get("/api/v1/orders/"), 401, "authentication_failed")
    revoked = client_for(seller)
    api_key_revoke(api_key=revoked.api_key)
    assert_error_shape(revoked.get("/api/v1/orders/"), 401, "authentication_failed")


def test_a_deactivated_sellers_keys_are_refused_and_a_live_key_reads_its_seller(seller, mug):
    live = client_for(seller)
    response = live.get("/api/v1/orders/")
    assert response.status_code == 200
    assert response.wsgi_request.auth.seller == seller
    assert response.wsgi_request.auth.seller.name == seller.name

    seller.is_active = False
    seller.save(update_fields=["is_active"])
    assert_error_shape(client_for(seller).get("/api/v1/orders/"), 401, "authentication_failed")


def test_a_read_only_key_cannot_place_orders(seller, mug):
    reader = client_for(seller, scopes=[ApiScope.ORDERS_READ, ApiScope.PRODUCTS_READ])

    assert reader.get("/api/v1/orders/").status_code == 200
    assert_error_shape(
        reader.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json"), 403, "permission_denied"
    )
    assert_nothing_written()


def test_unknown_paths_and_methods_answer_in_the_error_shape(api):
    assert_error_shape(api.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_error_shape(api.delete("/api/v1/orders/"), 405, "method_not_allowed")


def test_list_pages_with_a_cursor_and_filters(api, seller, mug):
    ids = [api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json").json()["id"] for _ in range(5)]
    api.post(f"/api/v1/orders/{ids[0]}/cancel/", {}, format="json")

    first = api.get("/api/v1/orders/?page_size=2").json()
    second = api.get(first["next"]).json()
    cancelled = api.get("/api/v1/orders/?lifecycle=cancelled").json()["results"]

    assert [o["id"] for o in first["results"]] == ids[::-1][:2]
    assert [o["id"] for o in second["results"]] == ids[::-1][2:4]
    assert [o["id"] for o in cancelled] == [ids[0]]


def test_product_list_shows_availability_per_warehouse(api, seller, mug):
    WarehouseFactory(seller=seller, code="WEST", priority=200)
    stocked(mug, seller.warehouses.get(code="WEST"), 4)
    api.post("/api/v1/orders/", order_body([("MUG", 3)]), format="json")

    product = api.get("/api/v1/products/?sku=MUG").json()["results"][0]

    assert product["price"] == {"amount": "10.00", "currency": "USD"}
    assert product["availability"]["available"] == 11
    assert product["availability"]["warehouses"] == [
        {"warehouse": "EAST", "on_hand": 10, "allocated": 3, "available": 7},
        {"warehouse": "WEST", "on_hand": 4, "allocated": 0, "available": 4},
    ]


def test_product_list_query_count_does_not_grow_with_the_page(api, seller, django_assert_max_num_queries):
    warehouse = WarehouseFactory(seller=seller)
    for _ in range(30):
        stocked(ProductFactory(seller=seller), warehouse, 3)

    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/products/?page_size=30")

    assert len(response.json()["results"]) == 30


def test_order_list_query_count_does_not_grow_with_the_page(api, seller, mug, django_assert_max_num_queries):
    for _ in range(8):
        api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json")

    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/orders/")

    assert len(response.json()["results"]) == 8


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/orders/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_openapi_schema_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    schema = (tmp_path / "schema.yml").read_text()
    assert "bearerFormat" in schema and "updated_since" in schema


@pytest.mark.parametrize(
    "value", ["0528-07-05T02:35:40+16:47", "0001-01-01T00:00:00+05:00", "not-a-date", "2026-13-40T00:00:00Z"]
)
def test_odd_timestamps_in_filters_are_400_not_500(api, value):
    for path in ("/api/v1/orders/", "/api/v1/products/"):
        response = api.get(path, {"updated_since": value})
        assert response.status_code in (200, 400), response.content
        assert response.status_code == 200 or response.json()["code"] == "validation_error"


def test_sync_clients_page_through_changes_in_update_order(api, seller, mug):
    ids = [api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json").json()["id"] for _ in range(5)]
    since = Order.objects.get(pk=ids[1]).updated_at.isoformat()
    api.post(f"/api/v1/orders/{ids[2]}/cancel/", {}, format="json")  # changed last

    first = api.get("/api/v1/orders/", {"ordering": "updated_at", "updated_since": since, "page_size": 2}).json()
    rest = api.get(first["next"]).json()

    assert [o["id"] for o in first["results"] + rest["results"]] == [ids[1], ids[3], ids[4], ids[2]]
    assert rest["next"] is None


def test_a_created_range_lists_newest_first_by_creation(api, seller, mug):
    ids = [api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json").json()["id"] for _ in range(3)]
    after = Order.objects.get(pk=ids[0]).created_at.isoformat()

    listed = api.get("/api/v1/orders/", {"created_after": after, "page_size": 2}).json()
    rest = api.get(listed["next"]).json()

    assert [o["id"] for o in listed["results"] + rest["results"]] == ids[::-1]


def test_the_created_order_renders_as_a_later_read_does_and_costs_few_queries(api, seller, mug):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cup = ProductFactory(seller=seller, sku="CUP")
    stocked(cup, WarehouseFactory(seller=seller, code="WEST", priority=200), 5)
    # Warm: the key's last-used time is written once a minute, the seller's number
    # sequence row once ever.
    api.post("/api/v1/orders/", order_body([("CUP", 1)]), format="json")
    body = order_body([("MUG", 10), ("CUP", 2)], shipping_total="4.99")

    with CaptureQueriesContext(connection) as captured:
        created = api.post("/api/v1/orders/", body, format="json")

    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert created.json() == api.get(created["Location"]).json()
    # key, products, seller checks, tax rates, units older orders wait for, stock lock,
    # stock update, number, order, lines, allocations, events, outbox
    assert len(statements) <= 13, statements
