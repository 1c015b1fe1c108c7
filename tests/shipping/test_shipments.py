"""Shipments from allocations, picking, packing and shipping, with the ledger, the
order's lines and status, the outbox and the customer's email."""

import pytest
from django.core import mail

from core.models import OutboxEvent
from core.outbox import outbox_dispatch
from inventory.models import BackorderPolicy, KitComponent, LedgerKind, ProductKind, Stock, StockLedgerEntry
from orders.models import Allocation, EventType
from orders.services import order_cancel
from orders.status import FulfillmentStatus, Lifecycle
from shipping.exceptions import InvalidShipping, PackingIncomplete, ScanRefused
from shipping.handlers import shipments_sync_for_event
from shipping.models import Shipment
from shipping.services.labels import shipment_label_buy
from shipping.services.shipments import (
    shipment_pack,
    shipment_pick_start,
    shipment_scan,
    shipment_ship,
    shipments_sync,
)
from shipping.status import ShipmentStatus
from tests.factories import ProductFactory
from tests.shipping.conftest import STAFF, packed, placed

pytestmark = pytest.mark.django_db


def ship(shipment, carrier):
    packed(shipment)
    shipment_label_buy(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=carrier.pk)
    return shipment_ship(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)


def test_a_split_order_becomes_two_shipments_and_is_partially_shipped_after_the_first(shop, table_carrier):
    order = placed(shop, [("MUG", 2), ("TEE", 3)])

    shipments = {s.warehouse.code: s for s in Shipment.objects.filter(order=order).select_related("warehouse")}
    assert set(shipments) == {"EAST", "WEST"}
    assert [(line.sku, line.quantity, line.bin_location) for line in shipments["EAST"].lines.all()] == [
        ("MUG", 2, "A-01-02")
    ]
    assert [(line.sku, line.quantity) for line in shipments["WEST"].lines.all()] == [("TEE", 3)]

    ship(shipments["EAST"], table_carrier)

    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.PARTIALLY_SHIPPED
    assert order.lifecycle == Lifecycle.IN_FULFILLMENT
    lines = {line.sku: line for line in order.lines.all()}
    assert (lines["MUG"].quantity_shipped, lines["TEE"].quantity_shipped) == (2, 0)

    ship(shipments["WEST"], table_carrier)

    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.SHIPPED
    assert order.lifecycle == Lifecycle.COMPLETED
    assert order.completed_at is not None
    types = list(order.events.values_list("type", flat=True))
    assert types.count(EventType.SHIPMENT_CREATED) == 2
    assert types.count(EventType.SHIPMENT_SHIPPED) == 2


def test_sync_is_idempotent_and_leaves_picked_shipments_alone(shop):
    order = placed(shop, [("MUG", 2), ("TEE", 1)])
    first = list(Shipment.objects.filter(order=order).order_by("pk").values_list("pk", flat=True))

    again = shipments_sync(seller_id=order.seller_id, order_id=order.pk, actor=STAFF)

    assert sorted(s.pk for s in again) == first
    assert Shipment.objects.filter(order=order).count() == 2
    assert order.events.filter(type=EventType.SHIPMENT_CREATED).count() == 2


def test_shipping_decrements_on_hand_and_allocated_together_in_the_ledger(shop, table_carrier):
    order = placed(shop, [("MUG", 3)])
    stock = Stock.objects.get(product=shop["mug"], warehouse=shop["east"])
    assert (stock.on_hand, stock.allocated) == (10, 3)
    shipment = Shipment.objects.get(order=order)

    ship(shipment, table_carrier)

    stock.refresh_from_db()
    assert (stock.on_hand, stock.allocated) == (7, 0)
    entry = StockLedgerEntry.objects.filter(stock=stock).order_by("-id").first()
    assert (entry.kind, entry.quantity, entry.balance_after) == (LedgerKind.SHIPMENT, -3, 7)
    assert entry.reference == f"shipment:{shipment.number}"
    assert sum(StockLedgerEntry.objects.filter(stock=stock).values_list("quantity", flat=True)) == stock.on_hand
    assert not Allocation.objects.filter(line__order=order).exists(), "allocations mean reserved, not shipped"


def test_shipped_is_announced_once_with_lines_and_the_customer_gets_tracking(shop, table_carrier):
    order = placed(shop, [("MUG", 2)])
    shipment = ship(Shipment.objects.get(order=order), table_carrier)

    event = OutboxEvent.objects.get(topic="shipment.shipped")
    line = order.lines.get()
    assert event.payload["order_id"] == order.pk
    assert event.payload["shipment_id"] == shipment.pk
    assert event.payload["lines"] == [{"line_id": line.pk, "quantity": 2}]
    assert event.payload["shipment"]["tracking_number"] == shipment.tracking_number

    mail.outbox.clear()
    outbox_dispatch(event_id=event.pk)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert shipment.tracking_number in message.subject
    assert f"https://track.example.com/{shipment.tracking_number}" in message.body
    assert "2 × " in message.body and "(MUG)" in message.body


def test_no_shipping_email_when_the_seller_turned_them_off(shop, table_carrier):
    shop["seller"].notify_customers = False
    shop["seller"].save()
    order = placed(shop, [("MUG", 1)])
    ship(Shipment.objects.get(order=order), table_carrier)
    mail.outbox.clear()

    outbox_dispatch(event_id=OutboxEvent.objects.get(topic="shipment.shipped").pk)

    assert mail.outbox == []


def test_a_wrong_item_or_too_many_is_refused_and_packing_waits_for_every_unit(shop):
    order = placed(shop, [("MUG", 2)])
    shipment = Shipment.objects.get(order=order)
    shipment_pick_start(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    with pytest.raises(ScanRefused):
        shipment_scan(seller_id=order.seller_id, shipment_id=shipment.pk, code="0001234500002")  # the TEE
    with pytest.raises(ScanRefused):
        shipment_scan(seller_id=order.seller_id, shipment_id=shipment.pk, code="0001234500001", quantity=3)
    assert shipment.lines.get().quantity_packed == 0

    result = shipment_scan(seller_id=order.seller_id, shipment_id=shipment.pk, code="0001234500001")
    assert (result.line.quantity_packed, result.complete) == (1, False)
    with pytest.raises(PackingIncomplete) as refused:
        shipment_pack(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    assert refused.value.details == {"missing": {"MUG": 1}}

    assert shipment_scan(seller_id=order.seller_id, shipment_id=shipment.pk, code="mug").complete
    shipment_pack(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PACKED
    assert [p.weight_grams for p in shipment.parcels.all()] == [800]


def test_a_shipment_without_a_label_does_not_ship_and_nothing_moves(shop):
    order = placed(shop, [("MUG", 1)])
    shipment = packed(Shipment.objects.get(order=order))

    with pytest.raises(InvalidShipping):
        shipment_ship(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    stock = Stock.objects.get(product=shop["mug"], warehouse=shop["east"])
    assert (stock.on_hand, stock.allocated) == (10, 1)
    assert not OutboxEvent.objects.filter(topic="shipment.shipped").exists()
    assert order.lines.get().quantity_shipped == 0


def test_picking_moves_a_confirmed_order_into_fulfillment(shop):
    order = placed(shop, [("MUG", 1)])
    assert order.lifecycle == Lifecycle.CONFIRMED
    shipment = Shipment.objects.get(order=order)

    shipment_pick_start(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.IN_FULFILLMENT
    assert order.events.filter(type=EventType.STATUS_CHANGED, data__after=Lifecycle.IN_FULFILLMENT).exists()


def test_a_kit_ships_its_components_and_the_line_advances_in_kits(shop, table_carrier):
    kit = ProductFactory(seller=shop["seller"], sku="GIFTSET", kind=ProductKind.KIT)
    KitComponent.objects.create(kit=kit, component=shop["mug"], quantity=2)
    order = placed(shop, [("GIFTSET", 2)])
    shipment = Shipment.objects.get(order=order)
    assert [(line.sku, line.quantity, line.order_line.sku) for line in shipment.lines.all()] == [("MUG", 4, "GIFTSET")]

    ship(shipment, table_carrier)

    line = order.lines.get()
    assert line.quantity_shipped == 2
    stock = Stock.objects.get(product=shop["mug"], warehouse=shop["east"])
    assert (stock.on_hand, stock.allocated) == (6, 0)
    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.SHIPPED


def test_backordered_units_stay_behind_and_the_order_stays_open(shop, table_carrier):
    shop["mug"].backorder_policy = BackorderPolicy.ALLOW
    shop["mug"].save()
    order = placed(shop, [("MUG", 12)])
    line = order.lines.get()
    assert (line.quantity_backordered, Shipment.objects.get(order=order).lines.get().quantity) == (2, 10)

    ship(Shipment.objects.get(order=order), table_carrier)

    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.quantity_shipped, line.quantity_backordered) == (10, 2)
    assert order.fulfillment_status == FulfillmentStatus.PARTIALLY_SHIPPED
    assert order.lifecycle == Lifecycle.IN_FULFILLMENT


def test_cancelling_the_order_cancels_its_open_shipments_and_queues_the_label_void(
    shop, table_carrier, django_capture_on_commit_callbacks
):
    order = placed(shop, [("MUG", 1)])
    shipment = packed(Shipment.objects.get(order=order))
    shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk)
    order_cancel(seller_id=order.seller_id, order_id=order.pk, actor=STAFF, reason="customer changed their mind")

    with django_capture_on_commit_callbacks(execute=False) as queued:
        shipments_sync_for_event(OutboxEvent.objects.get(topic="order.cancelled"))

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.CANCELLED
    assert any("label_void_task" in repr(getattr(callback, "func", callback)) for callback in queued)


def test_a_kit_whose_parts_leave_from_two_warehouses_is_shipped_with_the_second(shop, table_carrier):
    kit = ProductFactory(seller=shop["seller"], sku="DUO", kind=ProductKind.KIT)
    KitComponent.objects.create(kit=kit, component=shop["mug"], quantity=1)  # only in EAST
    KitComponent.objects.create(kit=kit, component=shop["tee"], quantity=1)  # only in WEST
    order = placed(shop, [("DUO", 2)])
    first, second = Shipment.objects.filter(order=order).order_by("pk")

    ship(first, table_carrier)
    line = order.lines.get()
    assert line.quantity_shipped == 0  # half a kit is not a kit

    ship(second, table_carrier)
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.quantity_shipped == 2
    assert (order.lifecycle, order.fulfillment_status) == (Lifecycle.COMPLETED, FulfillmentStatus.SHIPPED)
    assert OutboxEvent.objects.filter(
        topic="shipment.shipped", payload__lines=[{"line_id": line.pk, "quantity": 2}]
    ).exists()


def test_a_click_and_collect_order_is_picked_packed_and_collected_at_the_counter(
    shop, django_capture_on_commit_callbacks
):
    from orders.services.allocation import order_ready_for_pickup
    from shipping.services.shipments import shipment_collect

    counter = shop["east"]
    counter.is_pickup_location = True
    counter.save()
    order = placed(shop, [("MUG", 2)], delivery_method="pickup", pickup_location="EAST")
    shipment = Shipment.objects.get(order=order)
    assert shipment.warehouse == counter and not shipment.carrier_id
    packed(shipment)
    order_ready_for_pickup(seller_id=order.seller_id, order_id=order.pk, actor=STAFF)
    with pytest.raises(InvalidShipping):  # collected, not shipped
        shipment_ship(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    shipment_collect(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    order.refresh_from_db()
    stock = Stock.objects.get(product=shop["mug"], warehouse=counter)
    assert (stock.on_hand, stock.allocated) == (8, 0)
    assert Shipment.objects.get(pk=shipment.pk).status == ShipmentStatus.DELIVERED
    assert (order.lifecycle, order.fulfillment_status) == (Lifecycle.COMPLETED, FulfillmentStatus.DELIVERED)
    assert order.delivered_at is not None
    assert OutboxEvent.objects.filter(topic="shipment.shipped", payload__shipment_id=shipment.pk).exists()
    mail.outbox.clear()
    shipped = OutboxEvent.objects.get(topic="shipment.shipped", payload__shipment_id=shipment.pk)
    with django_capture_on_commit_callbacks(execute=False):
        outbox_dispatch(event_id=shipped.pk)
    assert not [m for m in mail.outbox if "shipped" in m.subject.lower()]  # no "on its way" for a collected box


def test_an_order_to_ship_cannot_be_marked_collected(shop, table_carrier):
    from shipping.services.shipments import shipment_collect

    order = placed(shop, [("MUG", 1)])
    shipment = Shipment.objects.get(order=order)
    packed(shipment)

    with pytest.raises(InvalidShipping):
        shipment_collect(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)


@pytest.mark.parametrize(
    ("local_time", "days", "expected"),
    [
        # 2026-11-20 is a Friday.
        ("2026-11-20 10:00", [1, 2, 3, 4, 5, 6, 7], "2026-11-20"),  # before the cut-off: today
        ("2026-11-20 16:30", [1, 2, 3, 4, 5, 6, 7], "2026-11-21"),  # after it: tomorrow, a Saturday
        ("2026-11-20 16:30", [1, 2, 3, 4, 5], "2026-11-23"),  # Monday to Friday: Monday
        ("2026-11-20 10:00", [1, 2, 3, 4, 5], "2026-11-20"),
        ("2026-11-21 09:00", [1, 2, 3, 4, 5], "2026-11-23"),  # placed on Saturday morning
        ("2026-11-22 18:00", [1, 2, 3, 4, 5, 6], "2026-11-23"),  # Sunday evening, closed Sundays
        ("2026-11-20 16:30", [3], "2026-11-25"),  # one day a week: the next Wednesday
    ],
)
def test_ship_by_is_the_next_shipping_day_after_the_cut_off(local_time, days, expected):
    import zoneinfo
    from datetime import date, datetime, time

    from inventory.models import Warehouse
    from shipping.services.shipments import ship_by_for

    warehouse = Warehouse(cutoff_time=time(16, 0), shipping_days=days)
    at = datetime.fromisoformat(local_time).replace(tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))

    assert ship_by_for(warehouse=warehouse, seller_timezone="Europe/Berlin", at=at) == date.fromisoformat(expected)


@pytest.mark.parametrize("days", [[], [0], [8], [1, 1], ["1"], [1.0], "12345", None])
def test_shipping_days_refuse_anything_but_distinct_iso_weekdays(days):
    from django.core.exceptions import ValidationError

    from inventory.models import shipping_days_validator

    with pytest.raises(ValidationError):
        shipping_days_validator(days)
    shipping_days_validator([6, 7])
