"""Labels and tracking through the carriers interface: the table-rate carrier, the
manual carrier, and EasyPost's official SDK over HTTP against the local EasyPost."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.utils import timezone
from djmoney.money import Money
from pypdf import PdfReader

from core.models import OutboxEvent
from orders.models import EventType
from orders.status import FulfillmentStatus
from shipping.exceptions import CarrierError, InvalidShipping, LabelConflict, NoRateAvailable
from shipping.models import CarrierAccount, CarrierKind, Shipment
from shipping.services.labels import shipment_label_buy, shipment_label_void, shipment_rates
from shipping.services.shipments import shipment_ship
from shipping.services.tracking import tracking_poll_due
from shipping.status import ShipmentStatus, TrackingStatus
from tests.shipping.conftest import STAFF, packed, placed

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_rate_shopping_picks_the_cheapest_service_that_keeps_the_promised_speed(shop, table_carrier):
    order = placed(shop, [("MUG", 1)], metadata={"shipping": {"max_transit_days": 2}})
    shipment = Shipment.objects.get(order=order)
    assert shipment.max_transit_days == 2

    quotes = shipment_rates(seller_id=order.seller_id, shipment_id=shipment.pk).quotes
    # Boston's postal prefix 021 has its own, half-price zone.
    assert [(q.service_code, q.amount) for q in quotes] == [
        ("ground", Money("3.00", "USD")),
        ("express", Money("9.00", "USD")),
    ]

    shipment = shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    assert (shipment.service_code, shipment.postage, shipment.transit_days) == ("express", Money("9.00", "USD"), 1)
    text = pdf_text(bytes(shipment.label_pdf))
    assert shipment.tracking_number in text
    assert "Ada Lovelace" in text and "Express" in text
    assert shipment.tracking_url == f"https://track.example.com/{shipment.tracking_number}"


def test_no_rate_when_no_service_is_fast_enough(shop, table_carrier):
    order = placed(shop, [("MUG", 1)], metadata={"shipping": {"max_transit_days": 1}})
    shipment = Shipment.objects.get(order=order)
    table_carrier.zones.get(name="Boston").rates.filter(service_code="express").delete()
    table_carrier.zones.get(name="US").rates.filter(service_code="express").update(transit_days=2)

    with pytest.raises(NoRateAvailable):
        shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    shipment.refresh_from_db()
    assert shipment.tracking_number == ""


def test_a_voided_label_frees_the_shipment_for_another(shop, table_carrier):
    order = placed(shop, [("MUG", 1)])
    shipment = packed(Shipment.objects.get(order=order))
    first = shipment_label_buy(
        seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk
    )
    with pytest.raises(LabelConflict):
        shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk)

    voided = shipment_label_void(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    assert (voided.tracking_number, voided.label_pdf, voided.postage) == ("", None, None)
    assert voided.status == ShipmentStatus.PACKED
    second = shipment_label_buy(
        seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk
    )
    assert second.tracking_number and second.tracking_number != first.tracking_number
    labels = order.events.filter(type=EventType.SHIPMENT_STATUS_CHANGED, data__has_key="label")
    assert [event.data["label"] for event in labels.order_by("id")] == ["bought", "voided", "bought"]


def test_a_shipped_label_cannot_be_voided(shop, table_carrier):
    order = placed(shop, [("MUG", 1)])
    shipment = packed(Shipment.objects.get(order=order))
    shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk)
    shipment_ship(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    with pytest.raises(LabelConflict):
        shipment_label_void(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)


def test_the_manual_carrier_takes_the_typed_tracking_number(shop):
    carrier = CarrierAccount.objects.create(
        seller=shop["seller"],
        code="dhl",
        name="DHL",
        kind=CarrierKind.MANUAL,
        tracking_url_template="https://dhl.example/{tracking_number}",
    )
    order = placed(shop, [("TEE", 1)])
    shipment = Shipment.objects.get(order=order)

    shipment = shipment_label_buy(
        seller_id=order.seller_id,
        shipment_id=shipment.pk,
        actor=STAFF,
        carrier_id=carrier.pk,
        tracking_number=" JD0142 ",
    )

    assert (shipment.tracking_number, shipment.tracking_url) == ("JD0142", "https://dhl.example/JD0142")
    assert shipment.label_pdf is None


def test_easypost_label_bought_with_the_sdk_over_http_then_voided(shop, easypost, easypost_carrier):
    order = placed(shop, [("MUG", 2)], metadata={"shipping": {"max_transit_days": 2}})
    shipment = packed(Shipment.objects.get(order=order))

    quotes = shipment_rates(seller_id=order.seller_id, shipment_id=shipment.pk).quotes
    assert {q.service_code for q in quotes} == {"USPS:GroundAdvantage", "USPS:Priority", "USPS:Express", "UPS:Ground"}

    shipment = shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    priority = next(q for q in quotes if q.service_code == "USPS:Priority")
    assert (shipment.carrier_id, shipment.service_code) == (easypost_carrier.pk, "USPS:Priority")
    assert shipment.postage == priority.amount
    assert shipment.provider_shipment_id.startswith("shp_") and shipment.provider_tracker_id.startswith("trk_")
    assert shipment.tracking_number.startswith("9400")
    assert shipment.tracking_number in pdf_text(bytes(shipment.label_pdf))
    assert ("POST", f"/v2/shipments/{shipment.provider_shipment_id}/buy") in easypost.state.requests

    shipment_label_void(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    assert easypost.state.shipments[shipment.provider_shipment_id]["refund_status"] == "submitted"
    shipment.refresh_from_db()
    assert shipment.tracking_number == "" and shipment.provider_shipment_id == ""


def test_easypost_refusal_is_translated_and_nothing_is_stored(shop, easypost, easypost_carrier, settings):
    settings.WAYBILL_EASYPOST_API_KEY = "EZTK-wrong"
    order = placed(shop, [("MUG", 1)])
    shipment = Shipment.objects.get(order=order)
    with pytest.raises(NoRateAvailable) as refused:
        shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    assert refused.value.details["errors"] == {
        "easypost": "EasyPost could not quote: The API key is missing or invalid."
    }
    with pytest.raises(CarrierError):
        shipment_label_buy(
            seller_id=order.seller_id,
            shipment_id=shipment.pk,
            actor=STAFF,
            carrier_id=easypost_carrier.pk,
            service_code="USPS:Priority",
        )
    shipment.refresh_from_db()
    assert shipment.tracking_number == ""


def shipped_with_easypost(shop, lines):
    order = placed(shop, lines)
    shipment = packed(Shipment.objects.get(order=order))
    shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    return order, shipment_ship(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)


def test_polling_records_tracking_events_and_delivery_sets_the_order_delivered(shop, easypost, easypost_carrier):
    order, shipment = shipped_with_easypost(shop, [("MUG", 1)])
    easypost.advance(shipment.tracking_number)  # in transit

    assert tracking_poll_due() == 1

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.IN_TRANSIT
    events = shipment.tracking_events.order_by("id")
    assert list(events.values_list("source", "status")) == [
        ("label", TrackingStatus.PRE_TRANSIT),
        ("poll", TrackingStatus.PRE_TRANSIT),
        ("poll", TrackingStatus.IN_TRANSIT),
    ]
    assert events.last().message == "Arrived at USPS Regional Facility"
    assert events.last().location == "DENVER, CO, 80202"
    assert tracking_poll_due() == 0, "polled again only after the interval"

    easypost.advance(shipment.tracking_number, "delivered")
    assert tracking_poll_due(now=timezone.now() + timedelta(hours=2)) == 1

    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.status == ShipmentStatus.DELIVERED
    assert order.fulfillment_status == FulfillmentStatus.DELIVERED
    assert order.delivered_at == shipment.delivered_at is not None
    assert order.events.filter(type=EventType.DELIVERED).count() == 1
    assert OutboxEvent.objects.filter(topic="shipment.delivered", aggregate_id=str(shipment.pk)).count() == 1


def test_a_label_bought_before_the_address_changed_is_refused_voided_and_replaced(
    shop, table_carrier, django_capture_on_commit_callbacks
):
    from orders.services import AddressInput
    from orders.services.changes import order_shipping_address_update
    from shipping.services.shipments import shipments_sync

    order = placed(shop, [("MUG", 1)])
    shipment = Shipment.objects.get(order=order)
    shipment_label_buy(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk)
    chicago = AddressInput(name="Ada Lovelace", line1="1 New Road", city="Chicago", country="US", postal_code="60601")
    order_shipping_address_update(seller_id=order.seller_id, order_id=order.pk, address=chicago, actor=STAFF)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        shipments_sync(seller_id=order.seller_id, order_id=order.pk, actor=STAFF)
    assert any(getattr(c, "keywords", {}).get("shipment_id") == shipment.pk for c in queued)  # its void is queued
    packed(shipment)

    with pytest.raises(InvalidShipping):
        shipment_ship(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)

    shipment_label_void(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)
    shipment_label_buy(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk)
    shipped = shipment_ship(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(bytes(shipped.label_pdf))).pages)
    assert "Chicago" in text
