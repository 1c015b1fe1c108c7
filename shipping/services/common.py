"""Small pieces the shipping services share."""

import hashlib
import json

from core.actor import Actor
from orders.locks import order_lock
from orders.models import Order
from shipping.exceptions import InvalidShipmentTransition
from shipping.locks import shipment_lock, shipment_order_id
from shipping.models import Shipment
from shipping.status import SHIPMENT_TRANSITIONS


def shipment_ref(shipment: Shipment) -> dict:
    """How a shipment appears in the order's events and outbox payloads."""
    return {
        "shipment_id": shipment.pk,
        "shipment_number": shipment.number,
        "warehouse_id": shipment.warehouse_id,
        "carrier": shipment.carrier.code if shipment.carrier_id else "",
        "service": shipment.service_name,
        "tracking_number": shipment.tracking_number,
        "tracking_url": shipment.tracking_url,
    }


def lock_order_and_shipment(*, seller_id: int, shipment_id: int) -> tuple[Order, Shipment]:
    """Lock the shipment's order, then the shipment: the one lock order every
    shipping service follows. Call inside a transaction."""
    order = order_lock(seller_id=seller_id, order_id=shipment_order_id(seller_id=seller_id, shipment_id=shipment_id))
    return order, shipment_lock(seller_id=seller_id, shipment_id=shipment_id)


def ensure_shipment_transition(shipment: Shipment, to: str) -> None:
    if to not in SHIPMENT_TRANSITIONS[shipment.status]:
        raise InvalidShipmentTransition(current=shipment.status, requested=to)


def actor_label(actor: Actor) -> str:
    return actor.label[:150]


# Marks a label whose void is under way: shipping refuses it meanwhile.
LABEL_VOIDING = "voiding"


def label_fingerprint(order: Order, shipment: Shipment) -> str:
    """What a label is bought for: the order's shipping address and the shipment's
    contents. A label whose fingerprint no longer matches would send the wrong parcel
    to the wrong place."""
    contents = sorted(shipment.lines.values_list("order_line_id", "stock_id", "quantity"))
    document = {"address": order.shipping_address, "lines": contents}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
