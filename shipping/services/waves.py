"""Pick waves: shipments of one warehouse picked together from one pick list. Staff
choose the shipments, or Waybill batches what is due by warehouse, cut-off day and
carrier. Starting a wave starts picking each of its shipments."""

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.utils import timezone

from core.actor import Actor
from core.exceptions import ApplicationError
from orders.locks import orders_for_update
from orders.services.fulfillment import FULFILLABLE
from sellers.services import sequence_next
from shipping.exceptions import InvalidShipping, NothingToPick
from shipping.locks import shipments_for_update
from shipping.models import CarrierAccount, PickWave, Shipment
from shipping.services.common import actor_label
from shipping.services.shipments import shipments_sync, start_picking
from shipping.status import ShipmentStatus

WAVE_SEQUENCE = "pick_wave"


def wave_create(*, seller_id: int, shipment_ids: list[int], actor: Actor) -> PickWave:
    """One wave of pending shipments of one warehouse, all or nothing."""
    ids = sorted(set(shipment_ids))
    with transaction.atomic():
        order_ids = set(Shipment.objects.filter(seller_id=seller_id, pk__in=ids).values_list("order_id", flat=True))
        orders = {order.pk: order for order in orders_for_update().filter(seller_id=seller_id, pk__in=order_ids)}
        shipments = list(shipments_for_update().filter(seller_id=seller_id, pk__in=ids))
        if not shipments or len(shipments) != len(ids):
            raise InvalidShipping(details={"shipments": ["Choose shipments of your own to put in a wave."]})
        if len({s.warehouse_id for s in shipments}) > 1:
            raise InvalidShipping(details={"shipments": ["A wave is picked in one warehouse: choose one."]})
        if not_pending := [s.number for s in shipments if s.status != ShipmentStatus.PENDING]:
            raise InvalidShipping(
                f"Only pending shipments go into a wave; not {', '.join(map(str, not_pending))}.",
                details={"shipments": not_pending},
            )
        carriers = {s.carrier_id for s in shipments}
        wave = PickWave.objects.create(
            seller_id=seller_id,
            number=sequence_next(seller_id=seller_id, name=WAVE_SEQUENCE),
            warehouse_id=shipments[0].warehouse_id,
            carrier=CarrierAccount.objects.get(pk=carriers.pop())
            if len(carriers) == 1 and None not in carriers
            else None,
            created_by=actor_label(actor),
        )
        started = 0
        for shipment in shipments:
            try:
                with transaction.atomic():
                    start_picking(orders[shipment.order_id], shipment, actor=actor, wave_id=wave.pk)
                started += 1
            except NothingToPick:
                # Its order changed after planning: left out, and cancelled by planning.
                shipments_sync(seller_id=seller_id, order_id=shipment.order_id, actor=actor)
        if not started:
            raise NothingToPick("Nothing is left to pick in these shipments: their orders changed since.")
    return wave


def waves_batch(*, seller_id: int, actor: Actor, today: date | None = None) -> list[PickWave]:
    """A wave per warehouse and carrier of the pending shipments due today or earlier
    (the warehouse's cut-off set their day), whose orders may be picked."""
    today = today or timezone.localdate()
    due = (
        Shipment.objects.filter(
            seller_id=seller_id,
            status=ShipmentStatus.PENDING,
            ship_by__lte=today,
            order__lifecycle__in=FULFILLABLE,
        )
        .order_by("ship_by", "pk")
        .values_list("pk", "warehouse_id", "carrier_id")
    )
    groups: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for pk, warehouse_id, carrier_id in due:
        groups[(warehouse_id, carrier_id)].append(pk)
    waves = []
    for ids in groups.values():
        try:
            waves.append(wave_create(seller_id=seller_id, shipment_ids=ids, actor=actor))
        except ApplicationError:
            continue  # changed meanwhile (picked by someone, order held): the next batch takes the rest
    return waves
