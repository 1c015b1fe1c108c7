"""A picker who starts before shipment planning has caught up with a change to the order
picks what is ordered now, not what was planned."""

import pytest

from core.models import OutboxEvent
from inventory.models import Stock
from orders.services.changes import order_line_cancel
from shipping.exceptions import NothingToPick
from shipping.handlers import shipments_sync_for_event
from shipping.models import Shipment
from shipping.services.shipments import shipment_pack, shipment_pick_start, shipment_scan
from shipping.services.waves import waves_batch
from shipping.status import ShipmentStatus
from tests.shipping.conftest import STAFF, placed

pytestmark = pytest.mark.django_db


def test_a_shipment_picked_right_after_a_line_cancel_carries_only_what_is_left(shop):
    order = placed(shop, [("MUG", 3)])
    shipment = Shipment.objects.get(order=order)
    order_line_cancel(
        seller_id=order.seller_id, order_id=order.pk, line_id=order.lines.get().pk, quantity=2, actor=STAFF
    )

    # Quicker than the outbox relay that would plan the shipment again.
    shipment_pick_start(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PICKING
    assert list(shipment.lines.values_list("quantity", flat=True)) == [1]
    # The late planning leaves it so, and the box ships what is allocated.
    for event in OutboxEvent.objects.filter(topic="order.updated").order_by("pk"):
        shipments_sync_for_event(event)
    assert list(shipment.lines.values_list("quantity", flat=True)) == [1]
    for line in shipment.lines.all():
        shipment_scan(seller_id=order.seller_id, shipment_id=shipment.pk, code=line.barcode or line.sku, quantity=1)
    shipment_pack(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    assert Stock.objects.get(product__sku="MUG", warehouse=shipment.warehouse).allocated == 1


def test_a_shipment_whose_units_were_all_cancelled_cannot_be_picked(shop):
    order = placed(shop, [("MUG", 2), ("TEE", 1)])
    mug_shipment = Shipment.objects.get(order=order, lines__sku="MUG")
    order_line_cancel(
        seller_id=order.seller_id, order_id=order.pk, line_id=order.lines.get(sku="MUG").pk, quantity=None, actor=STAFF
    )

    with pytest.raises(NothingToPick):
        shipment_pick_start(seller_id=order.seller_id, shipment_id=mug_shipment.pk, actor=STAFF)

    # Refused, it writes nothing; the planning that follows the change cancels it.
    mug_shipment.refresh_from_db()
    assert mug_shipment.status == ShipmentStatus.PENDING
    for event in OutboxEvent.objects.filter(topic="order.updated").order_by("pk"):
        shipments_sync_for_event(event)
    mug_shipment.refresh_from_db()
    assert mug_shipment.status == ShipmentStatus.CANCELLED


def test_a_wave_leaves_out_a_shipment_emptied_by_a_change_and_takes_the_others(shop):
    changed = placed(shop, [("MUG", 2), ("TEE", 1)])
    other = placed(shop, [("MUG", 1)])
    order_line_cancel(
        seller_id=changed.seller_id,
        order_id=changed.pk,
        line_id=changed.lines.get(sku="MUG").pk,
        quantity=None,
        actor=STAFF,
    )
    emptied = Shipment.objects.get(order=changed, warehouse__code="EAST")
    kept = Shipment.objects.get(order=other)

    waves = waves_batch(seller_id=changed.seller_id, actor=STAFF)

    east = next(wave for wave in waves if wave.warehouse.code == "EAST")
    assert list(east.shipments.values_list("pk", flat=True)) == [kept.pk]
    emptied.refresh_from_db()
    kept.refresh_from_db()
    assert (emptied.status, kept.status) == (ShipmentStatus.CANCELLED, ShipmentStatus.PICKING)
