"""What storefronts and carriers see over HTTP, and the PDFs staff print."""

from io import BytesIO

import pytest
from pypdf import PdfReader
from rest_framework.test import APIClient

from shipping.documents import PickRow, packing_slip_pdf, pick_list_pdf
from shipping.models import CarrierPush, PickWave, Shipment
from shipping.selectors import shipments_for_documents
from shipping.services.documents import packing_slips, pick_list
from shipping.services.labels import shipment_label_buy
from shipping.services.shipments import shipment_ship
from shipping.services.waves import wave_create, waves_batch
from shipping.status import ShipmentStatus, TrackingStatus
from tests.conftest import client_for
from tests.shipping.conftest import STAFF, packed, placed

pytestmark = pytest.mark.django_db
PUSH_URL = "/api/v1/shipping/carriers/easypost/tracking/"


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_storefront_reads_the_orders_shipments_with_tracking(shop, table_carrier, api, other_seller):
    order = placed(shop, [("MUG", 2), ("TEE", 1)])
    east = Shipment.objects.get(order=order, warehouse=shop["east"])
    packed(east)
    shipment_label_buy(seller_id=order.seller_id, shipment_id=east.pk, actor=STAFF, carrier_id=table_carrier.pk)
    shipment_ship(seller_id=order.seller_id, shipment_id=east.pk, actor=STAFF)
    east.refresh_from_db()

    response = api.get(f"/api/v1/orders/{order.pk}/shipments/")

    assert response.status_code == 200
    body = response.json()
    assert [(s["warehouse"], s["status"]) for s in body] == [("EAST", "shipped"), ("WEST", "pending")]
    first = body[0]
    assert first["tracking_number"] == east.tracking_number
    assert first["carrier"] == "Waybill Post"
    # 800 g to Boston (its own half-price zone): the cheapest service, ground, 2 kg band.
    assert first["postage"] == {"amount": "4.50", "currency": "USD"}
    assert first["lines"] == [
        {
            "line_id": order.lines.get(sku="MUG").pk,
            "ordered_sku": "MUG",
            "sku": "MUG",
            "name": shop["mug"].name,
            "quantity": 2,
            "quantity_packed": 2,
        }
    ]
    assert [e["status"] for e in first["tracking_events"]] == [TrackingStatus.PRE_TRANSIT]
    assert body[1]["postage"] is None

    other = client_for(other_seller)
    assert other.get(f"/api/v1/orders/{order.pk}/shipments/").status_code == 404
    assert other.get(f"/api/v1/shipments/{east.pk}/").json()["code"] == "shipment_not_found"

    label = api.get(f"/api/v1/shipments/{east.pk}/label/")
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    assert east.tracking_number in pdf_text(label.content)
    slip = api.get(f"/api/v1/shipments/{east.pk}/packing-slip/")
    assert "MUG" in pdf_text(slip.content)


def test_rate_quotes_for_a_basket_and_address(shop, table_carrier, api):
    body = {
        "lines": [{"sku": "MUG", "quantity": 1}, {"sku": "TEE", "quantity": 2}],
        "address": {"country": "US", "postal_code": "60601"},
    }

    response = api.post("/api/v1/shipping/rates/", body, format="json")

    assert response.status_code == 200, response.json()
    quote = response.json()
    # Two warehouses, two parcels (400 g and 400 g), both in the US zone's first band.
    assert quote["shipments"] == 2
    assert [(o["service"], o["amount"], o["transit_days"]) for o in quote["options"]] == [
        ("ground", {"amount": "12.00", "currency": "USD"}, 5),
        ("express", {"amount": "36.00", "currency": "USD"}, 1),
    ]
    unknown = api.post("/api/v1/shipping/rates/", {**body, "lines": [{"sku": "NOPE", "quantity": 1}]}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["details"] == {"lines.0.sku": ["Unknown SKU 'NOPE'."]}


def test_a_checkout_choice_carries_into_the_shipment(shop, table_carrier):
    order = placed(
        shop, [("MUG", 1)], metadata={"shipping": {"carrier": "post", "service": "ground", "max_transit_days": 5}}
    )
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier_id, shipment.service_code, shipment.max_transit_days) == (table_carrier.pk, "ground", 5)

    shipment = shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    assert shipment.service_code == "ground"


def easypost_shipment(shop):
    order = placed(shop, [("MUG", 1)])
    shipment = packed(Shipment.objects.get(order=order))
    shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    return order, shipment_ship(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)


def test_a_signed_easypost_push_becomes_tracking_events_once(shop, easypost, easypost_carrier):
    order, shipment = easypost_shipment(shop)
    tracker = easypost.advance(shipment.tracking_number, "delivered")
    body, headers = easypost.signed_event(tracker)
    carrier_client = APIClient()

    response = carrier_client.post(
        PUSH_URL, body, content_type="application/json", HTTP_X_HMAC_SIGNATURE=headers["X-Hmac-Signature"]
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"received": True, "new_events": 2}
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert order.delivered_at is not None

    again = carrier_client.post(
        PUSH_URL, body, content_type="application/json", HTTP_X_HMAC_SIGNATURE=headers["X-Hmac-Signature"]
    )
    assert again.json() == {"received": True, "new_events": 0}
    assert CarrierPush.objects.count() == 1


def test_unknown_tracking_pushes_are_rejected_and_change_nothing(shop, easypost, easypost_carrier):
    order, shipment = easypost_shipment(shop)
    tracker = easypost.advance(shipment.tracking_number, "delivered")
    carrier_client = APIClient()

    stranger = {**tracker, "id": "trk_unknown", "tracking_code": "9400999"}
    body, headers = easypost.signed_event(stranger)
    unknown = carrier_client.post(
        PUSH_URL, body, content_type="application/json", HTTP_X_HMAC_SIGNATURE=headers["X-Hmac-Signature"]
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_tracking")

    body, headers = easypost.signed_event(tracker)
    forged = carrier_client.post(
        PUSH_URL, body, content_type="application/json", HTTP_X_HMAC_SIGNATURE="hmac-sha256-hex=00"
    )
    assert (forged.status_code, forged.json()["code"]) == (400, "push_rejected")
    unsigned = carrier_client.post(PUSH_URL, body, content_type="application/json")
    assert unsigned.status_code == 400

    no_such_carrier = carrier_client.post(
        "/api/v1/shipping/carriers/fedex/tracking/",
        body,
        content_type="application/json",
        HTTP_X_HMAC_SIGNATURE=headers["X-Hmac-Signature"],
    )
    assert no_such_carrier.status_code == 404

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.SHIPPED
    assert shipment.tracking_events.count() == 1
    assert not CarrierPush.objects.exists()


def test_pick_list_groups_by_bin_and_sku_with_totals(shop):
    first = placed(shop, [("MUG", 2)])
    second = placed(shop, [("MUG", 3), ("TEE", 1)])
    ids = list(Shipment.objects.filter(warehouse=shop["east"]).values_list("pk", flat=True))

    wave = wave_create(seller_id=shop["seller"].pk, shipment_ids=ids, actor=STAFF)

    assert Shipment.objects.filter(wave=wave, status=ShipmentStatus.PICKING).count() == 2
    shipments = shipments_for_documents(shipment_ids=ids)
    text = pdf_text(pick_list(shipments=shipments, title=f"Pick list: wave {wave.number}"))
    assert f"wave {wave.number}" in text
    assert "A-01-02" in text and "MUG" in text
    cells = text.splitlines()
    at = cells.index("A-01-02")
    numbers = ", ".join(str(n) for n in sorted(s.number for s in shipments))
    # One row per bin and SKU: the shipments it serves and the total to take.
    assert cells[at + 1 : at + 5] == ["MUG", shop["mug"].name, numbers, "5"]
    assert cells[-2:] == ["Total units", "5"]
    assert first.pk != second.pk


def test_packing_slip_lists_the_shipments_items_and_tracking(shop, table_carrier):
    order = placed(shop, [("MUG", 2), ("TEE", 3)])
    shipments = list(Shipment.objects.filter(order=order).order_by("pk"))
    packed(shipments[0])
    shipment_label_buy(seller_id=order.seller_id, shipment_id=shipments[0].pk, actor=STAFF, carrier_id=table_carrier.pk)

    loaded = shipments_for_documents(shipment_ids=[s.pk for s in shipments])
    reader = PdfReader(BytesIO(packing_slip_pdf(packing_slips(loaded))))

    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    loaded_first = next(s for s in loaded if s.pk == shipments[0].pk)
    assert f"Order #{order.number}" in first and "MUG" in first and "Ada Lovelace" in first
    assert loaded_first.tracking_number in first
    assert "TEE" in second and "3" in second


def test_waves_batch_by_warehouse_for_what_is_due(shop):
    placed(shop, [("MUG", 1), ("TEE", 1)])
    placed(shop, [("MUG", 1)])

    waves = waves_batch(seller_id=shop["seller"].pk, actor=STAFF)

    assert sorted(w.warehouse.code for w in waves) == ["EAST", "WEST"]
    assert {w.warehouse.code: w.shipments.count() for w in waves} == {"EAST": 2, "WEST": 1}
    assert waves_batch(seller_id=shop["seller"].pk, actor=STAFF) == []
    assert PickWave.objects.count() == 2


def test_pick_list_pdf_orders_bins_and_leaves_binless_rows_last():
    text = pdf_text(
        pick_list_pdf(
            title="Pick list",
            warehouse="EAST",
            rows=[
                PickRow("", "ZED", "Zed", 1, 7),
                PickRow("B-01", "CUP", "Cup", 2, 7),
                PickRow("A-01", "MUG", "Mug", 4, 8),
            ],
        )
    )
    assert text.index("A-01") < text.index("B-01") < text.index("ZED")
    assert "Total units" in text and "7" in text


def test_rate_quotes_weigh_a_kit_as_its_components(shop, table_carrier, api):
    from inventory.models import KitComponent, ProductKind
    from tests.factories import ProductFactory

    kit = ProductFactory(seller=shop["seller"], sku="MUG-PAIR", kind=ProductKind.KIT, weight_grams=0)
    KitComponent.objects.create(kit=kit, component=shop["mug"], quantity=2)

    response = api.post(
        "/api/v1/shipping/rates/",
        {"lines": [{"sku": "MUG-PAIR", "quantity": 1}], "address": {"country": "US", "postal_code": "60601"}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    # One parcel from EAST: two 400 g mugs, 800 g, the second weight band.
    assert response.json()["shipments"] == 1
    assert response.json()["options"][0]["amount"] == {"amount": "9.00", "currency": "USD"}


def test_a_wave_is_done_once_every_shipment_in_it_left_picking_and_reopens_with_a_box(shop):
    from orders.services.lifecycle import order_cancel
    from shipping.services.shipments import shipment_pack, shipment_pick_start, shipment_scan, shipments_sync
    from shipping.status import WaveStatus

    def packed(shipment):  # picked in the wave: scan every unit, then close the box
        for line in shipment.lines.all():
            shipment_scan(seller_id=shipment.seller_id, shipment_id=shipment.pk, code=line.sku, quantity=line.quantity)
        shipment_pack(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)

    first = placed(shop, [("MUG", 1)])
    second = placed(shop, [("MUG", 2)])
    third = placed(shop, [("MUG", 1)])
    one, two, three = (Shipment.objects.get(order=order, warehouse=shop["east"]) for order in (first, second, third))
    wave = wave_create(seller_id=shop["seller"].pk, shipment_ids=[one.pk, two.pk, three.pk], actor=STAFF)

    def status():
        wave.refresh_from_db()
        return wave.status

    assert status() == WaveStatus.OPEN
    packed(one)
    assert status() == WaveStatus.OPEN  # two and three are still being picked
    packed(two)
    assert status() == WaveStatus.OPEN
    # The last one picked is cancelled with its order: nothing is left to pick.
    order_cancel(seller_id=third.seller_id, order_id=third.pk, actor=STAFF)
    shipments_sync(seller_id=third.seller_id, order_id=third.pk, actor=STAFF)
    assert Shipment.objects.get(pk=three.pk).status == ShipmentStatus.CANCELLED
    assert status() == WaveStatus.DONE

    # A packed box opened again is picked again: the wave is open until it is packed.
    shipment_pick_start(seller_id=two.seller_id, shipment_id=two.pk, actor=STAFF)
    assert status() == WaveStatus.OPEN
    assert Shipment.objects.get(pk=two.pk).wave_id == wave.pk
    shipment_pack(seller_id=two.seller_id, shipment_id=two.pk, actor=STAFF)
    assert status() == WaveStatus.DONE
