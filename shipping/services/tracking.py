"""Tracking: updates from polling, carrier pushes or staff become tracking events on the
shipment; the latest one moves the shipment's status; delivery reaches the order
(its delivered date starts the return window) and is announced."""

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.actor import Actor
from core.outbox import outbox_record
from orders.services.fulfillment import order_shipment_delivered, order_shipment_tracking
from shipping.carriers import POLLED_KINDS, carrier_backend
from shipping.carriers.base import LabelRef, TrackingUpdate
from shipping.exceptions import CarrierError, UnknownTracking
from shipping.models import CarrierPush, Shipment, TrackingEvent, TrackingSource
from shipping.services.common import lock_order_and_shipment, shipment_ref
from shipping.status import (
    IN_CARRIER_STATUSES,
    SHIPMENT_TRANSITIONS,
    TRACKING_TO_SHIPMENT,
    ShipmentStatus,
)

logger = logging.getLogger(__name__)

ANNOUNCED = {
    ShipmentStatus.DELIVERED: "shipment.delivered",
    ShipmentStatus.EXCEPTION: "shipment.exception",
    ShipmentStatus.RETURNED_TO_SENDER: "shipment.exception",
}
# Tracking applies once the parcel is with the carrier, and a delivered parcel may
# still get late scans (recorded, status unchanged).
TRACKABLE = IN_CARRIER_STATUSES | {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED_TO_SENDER}


def tracking_apply(
    *, seller_id: int, shipment_id: int, updates: Sequence[TrackingUpdate], source: str, actor: Actor
) -> list[TrackingEvent]:
    """Record the updates not seen before; the latest of all moves the shipment when the
    status flow allows it. Returns the new events."""
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        if shipment.status not in TRACKABLE:
            return []
        seen = set(shipment.tracking_events.values_list("occurred_at", "status", "message"))
        reported = shipment.tracking_events.filter(source__in=(TrackingSource.POLL, TrackingSource.PUSH))
        newest_before = reported.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
        fresh = []
        # Stable sort: updates of the same second keep the carrier's order.
        for update in sorted(updates, key=lambda u: u.occurred_at):
            key = (update.occurred_at, update.status, update.message[:255])
            if key in seen:
                continue
            seen.add(key)
            fresh.append(
                TrackingEvent(
                    shipment=shipment,
                    status=update.status,
                    message=update.message[:255],
                    location=update.location[:200],
                    occurred_at=update.occurred_at,
                    source=source,
                )
            )
        if not fresh:
            return []
        TrackingEvent.objects.bulk_create(fresh)
        ref = shipment_ref(shipment)
        for event in fresh:
            order_shipment_tracking(
                order=order,
                shipment=ref,
                status=event.status,
                message=event.message,
                occurred_at=event.occurred_at,
                actor=actor,
            )
        latest = fresh[-1]
        if newest_before is None or latest.occurred_at >= newest_before:
            _move(order, shipment, latest, actor=actor)  # an older update arriving late moves nothing
    return fresh


def _move(order, shipment: Shipment, latest: TrackingEvent, *, actor: Actor) -> None:
    target = TRACKING_TO_SHIPMENT.get(latest.status)
    if target is None or target == shipment.status or target not in SHIPMENT_TRANSITIONS[shipment.status]:
        return
    shipment.status = target
    fields = ["status", "updated_at"]
    if target == ShipmentStatus.DELIVERED:
        shipment.delivered_at = latest.occurred_at
        fields.append("delivered_at")
    shipment.save(update_fields=fields)
    ref = shipment_ref(shipment)
    if target == ShipmentStatus.DELIVERED:
        others = Shipment.objects.filter(order=order).exclude(pk=shipment.pk).exclude(status=ShipmentStatus.CANCELLED)
        all_delivered = not others.exclude(status=ShipmentStatus.DELIVERED).exists()
        order_shipment_delivered(
            order=order, shipment=ref, delivered_at=latest.occurred_at, all_delivered=all_delivered, actor=actor
        )
    if topic := ANNOUNCED.get(target):
        outbox_record(
            topic=topic,
            seller_id=shipment.seller_id,
            aggregate_type="shipment",
            aggregate_id=shipment.pk,
            payload={"order_id": order.pk, "shipment_id": shipment.pk, "status": target, "shipment": ref},
        )


def label_ref(shipment: Shipment) -> LabelRef:
    return LabelRef(
        tracking_number=shipment.tracking_number,
        provider_shipment_id=shipment.provider_shipment_id,
        provider_tracker_id=shipment.provider_tracker_id,
    )


def tracking_poll_due(*, now=None, limit: int = 200) -> int:
    """Poll each shipment on its way with a carrier that does not push, at most once
    per interval. One carrier failing does not stop the others. Returns how many
    shipments got news."""
    now = now or timezone.now()
    threshold = now - timedelta(seconds=settings.WAYBILL_TRACKING_POLL_SECONDS)
    due = list(
        Shipment.objects.select_related("carrier")
        .filter(status__in=IN_CARRIER_STATUSES, carrier__kind__in=POLLED_KINDS)
        .exclude(tracking_number="")
        .exclude(last_polled_at__gte=threshold)
        .order_by("last_polled_at", "pk")[:limit]
    )
    updated = 0
    for shipment in due:
        try:
            updates = carrier_backend(shipment.carrier).track(label_ref(shipment))
        except CarrierError as exc:
            logger.warning("Tracking poll of shipment %s failed: %s", shipment.pk, exc.message)
            updates = []
        Shipment.objects.filter(pk=shipment.pk).update(last_polled_at=now)
        if updates and tracking_apply(
            seller_id=shipment.seller_id,
            shipment_id=shipment.pk,
            updates=updates,
            source="poll",
            actor=Actor.system("tracking poll"),
        ):
            updated += 1
    return updated


def tracking_push(
    *, carrier_kind: str, event_id: str, tracker_id: str, tracking_number: str, updates: Sequence[TrackingUpdate]
) -> list[TrackingEvent]:
    """A carrier pushed news of a parcel. Refused (404) when no shipment of that
    carrier has the tracker or tracking number; a redelivered push is applied once."""
    candidates = Shipment.objects.filter(carrier__kind=carrier_kind).exclude(tracking_number="")
    shipment = None
    if tracker_id:
        shipment = candidates.filter(provider_tracker_id=tracker_id).first()
    if shipment is None and tracking_number:
        shipment = candidates.filter(tracking_number=tracking_number).order_by("-pk").first()
    if shipment is None:
        raise UnknownTracking(details={"tracker_id": tracker_id, "tracking_number": tracking_number})
    with transaction.atomic():
        try:
            with transaction.atomic():
                CarrierPush.objects.create(carrier_kind=carrier_kind, event_id=event_id[:64])
        except IntegrityError:
            return []  # seen before
        return tracking_apply(
            seller_id=shipment.seller_id,
            shipment_id=shipment.pk,
            updates=updates,
            source="push",
            actor=Actor.system(f"{carrier_kind} push"),
        )
