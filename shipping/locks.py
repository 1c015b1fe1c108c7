"""Locking reads. A shipment is always locked after its order (orders.locks.order_lock),
never before, and several rows in pk order."""

from shipping.exceptions import ShipmentNotFound
from shipping.models import Shipment


def shipments_for_update():
    return Shipment.objects.select_for_update(of=("self",)).order_by("pk")


def shipment_lock(*, seller_id: int, shipment_id: int) -> Shipment:
    try:
        return shipments_for_update().get(pk=shipment_id, seller_id=seller_id)
    except Shipment.DoesNotExist as exc:
        raise ShipmentNotFound() from exc


def shipment_order_id(*, seller_id: int, shipment_id: int) -> int:
    """The shipment's order, read before locking (it never changes), so the order can be
    locked first."""
    order_id = Shipment.objects.filter(pk=shipment_id, seller_id=seller_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise ShipmentNotFound()
    return order_id
