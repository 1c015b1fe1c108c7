"""Outbox handlers: the orders app's events start shipping work (no upward import)."""

from core.actor import Actor
from core.models import OutboxEvent
from shipping.services.shipments import shipments_sync


def shipments_sync_for_event(event: OutboxEvent) -> None:
    order_id = event.payload.get("order_id")
    if order_id is None or event.seller_id is None:
        return
    shipments_sync(seller_id=event.seller_id, order_id=order_id, actor=Actor.system("shipment planning"))
