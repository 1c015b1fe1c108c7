"""A warehouse's handheld app (or a 3PL) working a shipment over the API: pick, scan,
pack, label and ship, or hand a click-and-collect box over at the counter. Refusals
answer in the one error shape and change nothing."""

import pytest

from inventory.models import Stock
from orders.models import Order
from sellers.models import ApiScope
from shipping.models import Parcel, Shipment
from shipping.status import ShipmentStatus
from tests.conftest import assert_error_shape, client_for, run_at_once
from tests.factories import WarehouseFactory
from tests.shipping.conftest import placed

pytestmark = pytest.mark.django_db


def url(shipment, action):
    return f"/api/v1/shipments/{shipment.pk}/{action}/"


@pytest.fixture
def api(seller):
    """The warehouse's handheld app: its key names the fulfilment scope."""
    return client_for(seller, scopes=[ApiScope.ORDERS_READ, ApiScope.FULFILLMENT_WRITE])


def test_pick_scan_pack_label_and_ship_over_the_api(shop, table_carrier, api):
    order = placed(shop, [("MUG", 2)])
    shipment = Shipment.objects.get(order=order)

    picked = api.post(url(shipment, "pick"))
    assert picked.status_code == 200
    assert picked.json()["status"] == "picking"

    wrong = api.post(url(shipment, "scan"), {"code": "0001234500002"}, format="json")  # the tee is not in it
    body = assert_error_shape(wrong, 422, "scan_refused")
    assert body["details"]["expected"] == {"MUG": 2}

    early = api.post(url(shipment, "pack"), {}, format="json")
    assert assert_error_shape(early, 409, "packing_incomplete")["details"]["missing"] == {"MUG": 2}

    first = api.post(url(shipment, "scan"), {"code": "0001234500001"}, format="json")
    assert first.status_code == 200
    assert first.json()["complete"] is False
    assert first.json()["line"]["quantity_packed"] == 1
    too_many = api.post(url(shipment, "scan"), {"code": "mug", "quantity": 2}, format="json")
    assert_error_shape(too_many, 422, "scan_refused")
    last = api.post(url(shipment, "scan"), {"code": "mug"}, format="json")
    assert last.json()["complete"] is True

    packed = api.post(
        url(shipment, "pack"),
        {"parcels": [{"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}]},
        format="json",
    )
    assert packed.status_code == 200
    assert packed.json()["status"] == "packed"
    assert packed.json()["parcels"] == [{"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}]

    unlabelled = api.post(url(shipment, "ship"))
    assert_error_shape(unlabelled, 400, "validation_error")

    labelled = api.post(
        url(shipment, "label"),
        {"carrier_id": table_carrier.pk, "service_code": "", "tracking_number": ""},
        format="json",
    )
    assert labelled.status_code == 200
    assert labelled.json()["tracking_number"]
    assert api.get(url(shipment, "label"))["Content-Type"] == "application/pdf"

    shipped = api.post(url(shipment, "ship"))
    assert shipped.status_code == 200
    assert shipped.json()["status"] == "shipped"
    stock = Stock.objects.get(product=shop["mug"], warehouse=shop["east"])
    assert (stock.on_hand, stock.allocated) == (8, 0)

    again = api.post(url(shipment, "ship"))
    assert assert_error_shape(again, 409, "invalid_shipment_transition")["details"] == {
        "current": "shipped",
        "requested": "shipped",
    }


def test_the_fulfillment_scope_is_needed_and_another_sellers_shipment_is_not_found(shop, other_seller):
    order = placed(shop, [("MUG", 1)])
    shipment = Shipment.objects.get(order=order)
    storefront = client_for(shop["seller"])  # a key made without naming scopes is a storefront's
    assert ApiScope.FULFILLMENT_WRITE not in storefront.api_key.scopes

    assert_error_shape(storefront.post(url(shipment, "pick")), 403, "permission_denied")
    assert storefront.get(f"/api/v1/shipments/{shipment.pk}/").status_code == 200
    other = client_for(other_seller, scopes=[ApiScope.FULFILLMENT_WRITE])
    assert_error_shape(other.post(url(shipment, "pick")), 404, "shipment_not_found")
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PENDING


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("scan", {"code": ""}, "code"),
        ("scan", {"code": "MUG", "quantity": 0}, "quantity"),
        ("scan", {}, "code"),
        ("pack", {"parcels": [{"weight_grams": 0}]}, "parcels.0.weight_grams"),
        ("pack", {"parcels": "heavy"}, "parcels"),
        ("label", {"carrier_id": "post"}, "carrier_id"),
    ],
)
def test_bad_input_is_a_field_error_and_changes_nothing(shop, api, action, body, field):
    order = placed(shop, [("MUG", 1)])
    shipment = Shipment.objects.get(order=order)
    api.post(url(shipment, "pick"))

    response = api.post(url(shipment, action), body, format="json")

    details = assert_error_shape(response, 400, "validation_error")["details"]
    assert any(key == field or key.startswith(f"{field}.") for key in details), details
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PICKING
    assert not Parcel.objects.filter(shipment=shipment).exists()
    assert shipment.lines.get().quantity_packed == 0


def test_a_click_and_collect_box_is_handed_over_at_the_counter(shop, api):
    counter = WarehouseFactory(seller=shop["seller"], code="SHOP", is_pickup_location=True)
    from tests.factories import stocked

    stocked(shop["mug"], counter, 3)
    order = placed(shop, [("MUG", 1)], delivery_method="pickup", pickup_location="SHOP")
    shipment = Shipment.objects.get(order=order)
    assert shipment.warehouse_id == counter.pk
    api.post(url(shipment, "pick"))
    api.post(url(shipment, "scan"), {"code": "MUG"}, format="json")
    api.post(url(shipment, "pack"), {}, format="json")

    assert_error_shape(api.post(url(shipment, "ship")), 400, "validation_error")  # collected, not shipped
    collected = api.post(url(shipment, "collect"))

    assert collected.status_code == 200
    assert collected.json()["status"] == "delivered"
    assert Order.objects.get(pk=order.pk).fulfillment_status == "delivered"


def scan(client, shipment, code, key, quantity=1):
    return client.post(
        url(shipment, "scan"), {"code": code, "quantity": quantity}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_scan_resent_with_its_idempotency_key_is_counted_once(shop, api):
    order = placed(shop, [("MUG", 3)])
    shipment = Shipment.objects.get(order=order)
    api.post(url(shipment, "pick"))

    first = scan(api, shipment, "MUG", "scan-1")
    again = scan(api, shipment, "MUG", "scan-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert shipment.lines.get().quantity_packed == 1
    assert scan(api, shipment, "MUG", "scan-2").json()["line"]["quantity_packed"] == 2

    reused = scan(api, shipment, "MUG", "scan-1", quantity=2)  # another scan under a used key
    assert_error_shape(reused, 422, "idempotency_key_reused")
    assert shipment.lines.get().quantity_packed == 2

    # A refused scan is not kept: sent again, it is tried again (and refused again).
    assert_error_shape(scan(api, shipment, "TEE", "scan-3"), 422, "scan_refused")
    assert_error_shape(scan(api, shipment, "TEE", "scan-3"), 422, "scan_refused")
    assert scan(api, shipment, "MUG", "scan-4").json()["complete"] is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_scan_sent_at_once_from_several_threads_is_counted_once():
    from tests.factories import ProductFactory, SellerFactory, stocked

    seller = SellerFactory()
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    order = placed({"seller": seller}, [("MUG", 4)])
    shipment = Shipment.objects.get(order=order)
    clients = [client_for(seller, scopes=[ApiScope.FULFILLMENT_WRITE]) for _ in range(6)]
    clients[0].post(url(shipment, "pick"))
    responses, errors = run_at_once(len(clients), lambda index: scan(clients[index], shipment, "MUG", "race-scan"))

    assert errors == []
    assert [r.status_code for r in responses] == [200] * len(clients)
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == len(clients) - 1
    assert shipment.lines.get().quantity_packed == 1
