"""The order's side of fulfilment: what the shipping app's services call, inside their
transaction and under ``order_lock``, when picking starts, units ship, a shipment's
tracking moves and a parcel is delivered. The order's quantities, its derived
fulfillment status, its lifecycle and its timeline change here and nowhere else.

Shipping passes plain data (ids, numbers, tracking fields), never its own models:
``orders`` sits below ``shipping`` and does not import it.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from core.actor import Actor
from inventory.models import KitComponent, ProductKind
from orders.events import order_announce, order_event, status_changed_event
from orders.exceptions import InvalidTransition
from orders.models import EventType, Order, OrderEvent, OrderLine
from orders.services.allocation import line_fulfillment
from orders.services.lifecycle import LIFECYCLE_TIMESTAMPS, ensure_transition
from orders.status import Lifecycle

# Lifecycles in which an order may be picked and shipped.
FULFILLABLE = frozenset({Lifecycle.CONFIRMED, Lifecycle.IN_FULFILLMENT})


@dataclass(frozen=True, slots=True)
class ShippedLine:
    """Units of an order line leaving in a shipment, in the line's own units (kits for
    a kit line)."""

    line_id: int
    quantity: int


def ensure_fulfillable(order: Order, *, action: str) -> None:
    if order.lifecycle not in FULFILLABLE:
        raise InvalidTransition(
            current=order.lifecycle,
            requested=Lifecycle.IN_FULFILLMENT,
            message=f"Order #{order.number} is {order.lifecycle}: it cannot be {action} now.",
        )


def kit_units(lines: Sequence[OrderLine]) -> dict[int, dict[int, int]]:
    """Component units one kit takes, per kit line: line id → {component product id: units}."""
    kit_lines = [line for line in lines if line.product.kind == ProductKind.KIT]
    if not kit_lines:
        return {}
    parts: dict[int, dict[int, int]] = defaultdict(dict)
    rows = KitComponent.objects.filter(kit_id__in={line.product_id for line in kit_lines})
    for kit_id, component_id, quantity in rows.values_list("kit_id", "component_id", "quantity"):
        parts[kit_id][component_id] = quantity
    return {line.pk: parts[line.product_id] for line in kit_lines}


def line_units(*, line_id: int, picked: dict[int, int], kits: dict[int, dict[int, int]]) -> int:
    """How many of a line's units ``picked`` ({product id: units}) makes: the units
    themselves for a simple line; for a kit, the number of complete kits."""
    components = kits.get(line_id)
    if components is None:
        return sum(picked.values())
    return min((picked.get(component, 0) // per_kit for component, per_kit in components.items()), default=0)


def _lines(order: Order) -> list[OrderLine]:
    return list(OrderLine.objects.filter(order=order).select_related("product").order_by("position"))


def _refresh_fulfillment(order: Order, *, delivered: bool, actor: Actor) -> list[OrderEvent]:
    status = line_fulfillment(_lines(order), delivered=delivered)
    if status == order.fulfillment_status:
        return []
    before, order.fulfillment_status = order.fulfillment_status, status
    data = {"field": "fulfillment_status", "before": before, "after": status}
    return [order_event(order, EventType.FULFILLMENT_STATUS_CHANGED, actor=actor, data=data)]


def _move(order: Order, to: Lifecycle, *, actor: Actor, reason: str) -> list[OrderEvent]:
    before = order.lifecycle
    if before == to:
        return []
    ensure_transition(current=before, requested=to)
    order.lifecycle = to
    if stamp := LIFECYCLE_TIMESTAMPS.get(to):
        setattr(order, stamp, timezone.now())
    return [status_changed_event(order, before=before, after=to, actor=actor, reason=reason)]


def _save(order: Order, events: list[OrderEvent]) -> None:
    order.save(update_fields=["lifecycle", "fulfillment_status", "completed_at", "delivered_at", "updated_at"])
    OrderEvent.objects.bulk_create(events)


def order_fulfillment_start(*, order: Order, shipment: dict, actor: Actor) -> Order:
    """Picking started on one of the order's shipments: a confirmed order moves to
    in_fulfillment, which takes its allocations out of re-routing."""
    ensure_fulfillable(order, action="picked")
    events = _move(order, Lifecycle.IN_FULFILLMENT, actor=actor, reason="picking started")
    events.append(
        order_event(
            order,
            EventType.SHIPMENT_STATUS_CHANGED,
            actor=actor,
            data={**shipment, "before": "pending", "after": "picking"},
        )
    )
    _save(order, events)
    if len(events) > 1:
        order_announce(order, "order.updated", lifecycle=order.lifecycle)
    return order


def order_shipment_event(*, order: Order, type: EventType, shipment: dict, actor: Actor, data: dict | None = None):
    """A shipment fact that changes nothing on the order itself (created, packed,
    label bought or voided), on the order's timeline."""
    order_event(order, type, actor=actor, data={**shipment, **(data or {})}).save()


def order_lines_ship(*, order: Order, lines: Sequence[ShippedLine], shipment: dict, actor: Actor) -> Order:
    """Units left the warehouse: the lines' shipped quantities rise, the fulfillment
    status follows, and the order completes once every open unit has shipped."""
    ensure_fulfillable(order, action="shipped")
    per_line: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.quantity > 0:
            per_line[line.line_id] += line.quantity
    current = {line.pk: line for line in _lines(order)}
    for line_id, quantity in per_line.items():
        line = current.get(line_id)
        if line is None or line.quantity_open - line.quantity_backordered < quantity:
            raise InvalidTransition(
                current=order.lifecycle,
                requested=Lifecycle.IN_FULFILLMENT,
                message=f"Line {line_id} of order #{order.number} has fewer open units than this shipment carries.",
            )
    for line_id, quantity in per_line.items():
        OrderLine.objects.filter(pk=line_id).update(quantity_shipped=F("quantity_shipped") + quantity)
    events = _move(order, Lifecycle.IN_FULFILLMENT, actor=actor, reason="shipped")
    events.append(
        order_event(
            order,
            EventType.SHIPMENT_SHIPPED,
            actor=actor,
            data={**shipment, "lines": [{"line_id": i, "quantity": q} for i, q in sorted(per_line.items())]},
        )
    )
    events += _refresh_fulfillment(order, delivered=False, actor=actor)
    if _nothing_open(order):
        events += _move(order, Lifecycle.COMPLETED, actor=actor, reason="everything shipped")
    _save(order, events)
    order_announce(order, "order.updated", lifecycle=order.lifecycle, fulfillment_status=order.fulfillment_status)
    return order


def delivered_in_full_at(order: Order) -> datetime | None:
    """When the last of the order's shipped parcels was delivered, if every one of them
    was, from its timeline (a ``shipment_shipped`` event per parcel sent, a
    ``delivered`` event per parcel delivered); None otherwise."""
    shipped: set[int] = set()
    delivered: dict[int, datetime] = {}
    events = OrderEvent.objects.filter(order=order, type__in=(EventType.SHIPMENT_SHIPPED, EventType.DELIVERED))
    for kind, data in events.values_list("type", "data"):
        shipment_id = data.get("shipment_id")
        if kind == EventType.SHIPMENT_SHIPPED:
            shipped.add(shipment_id)
        elif data.get("delivered_at"):
            at = datetime.fromisoformat(data["delivered_at"])
            delivered[shipment_id] = max(at, delivered.get(shipment_id, at))
    if not shipped or not shipped <= delivered.keys():
        return None
    return max(delivered[shipment_id] for shipment_id in shipped)


def _nothing_open(order: Order) -> bool:
    return not any(line.quantity_open for line in OrderLine.objects.filter(order=order))


def order_shipment_tracking(
    *, order: Order, shipment: dict, status: str, message: str, occurred_at: datetime, actor: Actor
) -> None:
    """A carrier's tracking update, on the order's timeline."""
    order_event(
        order,
        EventType.TRACKING_UPDATED,
        actor=actor,
        data={**shipment, "status": status, "message": message, "occurred_at": occurred_at.isoformat()},
    ).save()


def order_shipment_delivered(
    *, order: Order, shipment: dict, delivered_at: datetime, all_delivered: bool, actor: Actor
) -> Order:
    """A parcel was delivered. Once every shipped parcel is and nothing is left to ship,
    the order is delivered: its delivered date is set (it starts the return window)."""
    events = [
        order_event(
            order, EventType.DELIVERED, actor=actor, data={**shipment, "delivered_at": delivered_at.isoformat()}
        )
    ]
    events += _refresh_fulfillment(order, delivered=all_delivered, actor=actor)
    if all_delivered and order.delivered_at is None and _nothing_open(order):
        order.delivered_at = delivered_at
    _save(order, events)
    order_announce(order, "order.updated", fulfillment_status=order.fulfillment_status)
    return order
