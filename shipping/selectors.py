"""Reads worth a name: what the API and the admin show, with their related rows loaded
in a fixed number of queries."""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orders.exceptions import OrderNotFound
from orders.models import Order
from shipping.exceptions import ShipmentNotFound
from shipping.models import Parcel, Shipment, ShipmentLine, TrackingEvent
from shipping.status import OPEN_STATUSES, ShipmentStatus


def _detailed(queryset: QuerySet[Shipment]) -> QuerySet[Shipment]:
    return queryset.select_related("carrier", "warehouse", "order__seller").prefetch_related(
        Prefetch("lines", queryset=ShipmentLine.objects.select_related("order_line").order_by("pk")),
        Prefetch("parcels", queryset=Parcel.objects.order_by("pk")),
        Prefetch("tracking_events", queryset=TrackingEvent.objects.order_by("occurred_at", "pk")),
    )


def shipment_list_for_order(*, seller_id: int, order_id: int) -> list[Shipment]:
    if not Order.objects.filter(pk=order_id, seller_id=seller_id).exists():
        raise OrderNotFound()
    return list(
        _detailed(Shipment.objects.filter(seller_id=seller_id, order_id=order_id))
        .exclude(status=ShipmentStatus.CANCELLED)
        .order_by("pk")
    )


def shipment_get(*, seller_id: int, shipment_id: int) -> Shipment:
    shipment = _detailed(Shipment.objects.filter(seller_id=seller_id, pk=shipment_id)).first()
    if shipment is None:
        raise ShipmentNotFound()
    return shipment


def warehouse_queue(*, seller_ids, today=None) -> QuerySet[Shipment]:
    """What the warehouses have to pick and pack: open shipments due today or earlier,
    late ones first."""
    today = today or timezone.localdate()
    return (
        Shipment.objects.filter(seller_id__in=seller_ids, status__in=OPEN_STATUSES, ship_by__lte=today)
        .select_related("warehouse", "order", "carrier")
        .order_by("ship_by", "warehouse__code", "pk")
    )


def shipments_for_documents(*, shipment_ids) -> list[Shipment]:
    return list(
        Shipment.objects.filter(pk__in=shipment_ids)
        .select_related("order__seller", "warehouse", "carrier")
        .prefetch_related(Prefetch("lines", queryset=ShipmentLine.objects.order_by("bin_location", "sku", "pk")))
        .order_by("warehouse__code", "pk")
    )
