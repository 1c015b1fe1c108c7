"""Order lines and the stock reserved for them, after placement: backorders filled as
stock arrives, allocations moved off a closed warehouse or a short count, staff
overrides, click-and-collect readiness.

A line's units are always in one of three states: shipped or cancelled, allocated
(``Allocation`` rows hold them, in the line's components for a kit), or waiting
(``quantity_backordered``). Every function here moves units between the last two under
the order's row lock, taken before any stock row (the order placement does not lock an
existing order, so the lock order is always order → stock)."""

import logging
import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from core.actor import Actor
from core.fastsql import placeholders
from core.models import OutboxEvent
from inventory.geocoding import destination_build
from inventory.models import KitComponent, Product, ProductKind, Stock, Warehouse
from inventory.routing.base import Destination
from inventory.selectors import product_components
from inventory.services import LineRequest, LinesAllocation, StockLine, stock_allocate_lines, stock_release
from orders.events import order_announce, order_event
from orders.exceptions import InvalidOrder, OrderNotEditable
from orders.locks import order_lock
from orders.models import Allocation, DeliveryMethod, EventType, Order, OrderEvent, OrderLine
from orders.selectors import lifecycle_before_hold, order_has_shipped
from orders.status import Lifecycle, LineQuantities, derive_fulfillment
from orders.tasks import backorders_fill_task, stock_shortfall_reconcile_task, warehouse_orders_reroute_task

logger = logging.getLogger(__name__)

SYSTEM = Actor.system("routing")
# Orders whose stock may still move: not yet being picked (in_fulfillment belongs to the
# warehouse), not finished.
MOVABLE_LIFECYCLES = (Lifecycle.PLACED, Lifecycle.ON_HOLD, Lifecycle.CONFIRMED)
# Orders that still want their backorders filled: also those being picked.
WAITING_LIFECYCLES = (*MOVABLE_LIFECYCLES, Lifecycle.IN_FULFILLMENT)
FILL_BATCH = 500  # orders per backorder pass; a bigger queue continues in another pass

Components = dict[int, tuple[tuple[int, int], ...]]


def stock_may_move(order: Order) -> bool:
    """Whether routing may still move the order's stock: not once the warehouse started
    picking it, even if it has been put on hold since."""
    if order.lifecycle not in MOVABLE_LIFECYCLES:
        return False
    return lifecycle_before_hold(order) != Lifecycle.IN_FULFILLMENT


def line_fulfillment(lines: Iterable[OrderLine], *, delivered: bool = False) -> str:
    return derive_fulfillment(
        (
            LineQuantities(
                quantity=line.quantity,
                allocated=line.quantity_open - line.quantity_backordered,
                shipped=line.quantity_shipped,
                cancelled=line.quantity_cancelled,
                returned=line.quantity_returned,
                backordered=line.quantity_backordered,
            )
            for line in lines
        ),
        delivered=delivered,
    )


def destination_for(order: Order) -> Destination:
    """Where the order goes, for routing (see ``destination_build``). Coordinates looked
    up offline are kept on the order, so a later re-routing does not look them up again."""
    destination = destination_build(
        country=order.ship_country,
        postal_code=order.ship_postal_code,
        city=order.ship_city,
        latitude=order.ship_latitude,
        longitude=order.ship_longitude,
    )
    if destination.is_located:
        order.ship_latitude, order.ship_longitude = destination.latitude, destination.longitude
    return destination


def order_destination(order: Order) -> tuple[Destination, list[int] | None, bool]:
    """Where routing sends the order: (destination, the only warehouses allowed or None,
    whether it is a click-and-collect order)."""
    if order.delivery_method == DeliveryMethod.PICKUP:
        warehouse = order.pickup_warehouse
        return (
            Destination(
                country=warehouse.country,
                postal_code=warehouse.postal_code,
                latitude=warehouse.latitude,
                longitude=warehouse.longitude,
                located_by="pickup" if warehouse.latitude is not None else "",
            ),
            [warehouse.pk],
            True,
        )
    return destination_for(order), None, False


def allocation_rows(lines: Sequence[OrderLine], routed: LinesAllocation) -> list[Allocation]:
    """New Allocation rows (unsaved) for what ``routed`` reserved for each line."""
    return [
        Allocation(line=line, stock=routed.stock_for(product_id, warehouse_id), quantity=units)
        for line, grant in zip(lines, routed.grants, strict=True)
        for product_id, warehouse_id, units in grant.parts
    ]


def _save_allocations(rows: list[Allocation]) -> None:
    """Add reserved units to the lines' allocations: a line already holding units in a
    stock row gets more there, others get a new row."""
    if not rows:
        return
    existing = {
        (a.line_id, a.stock_id): a
        for a in Allocation.objects.filter(
            line_id__in={r.line_id for r in rows}, stock_id__in={r.stock_id for r in rows}
        )
    }
    new = []
    for row in rows:
        if current := existing.get((row.line_id, row.stock_id)):
            Allocation.objects.filter(pk=current.pk).update(quantity=F("quantity") + row.quantity)
        else:
            new.append(row)
    Allocation.objects.bulk_create(new)


def shortfall_unreconciled(stock_ids: Collection[int]) -> dict[int, int]:
    """Per stock row, the units a short count already took off its ``allocated`` that
    its allocations still hold, because the ``stock.shortfall`` event has not been
    handled yet: releasing an allocation there must not give them back a second time
    (inventory would refuse, 409). The rows are locked, after the caller's order."""
    return {stock_id: excess for stock_id in sorted(set(stock_ids)) if (excess := _excess_at(stock_id)) > 0}


def release_line_units(
    line: OrderLine,
    units: int,
    components: tuple[tuple[int, int], ...],
    *,
    forgiven: dict[int, int] | None = None,
    from_stock_ids: Collection[int] = (),
) -> list[dict]:
    """Take ``units`` allocated units off a line (for a kit, ``units`` × each component)
    and give their stock back: first from the stock rows ``from_stock_ids`` (a short
    row, a closed warehouse's rows), then the newest allocations first. ``forgiven``
    maps stock ids to units inventory already took back itself (a short count): those
    are removed from the allocations without being released a second time; by default,
    whatever a short count took that is not reconciled yet. The caller adjusts the
    line."""
    released = []
    allocations = list(Allocation.objects.filter(line=line).select_related("stock__warehouse").order_by("-id"))
    allocations.sort(key=lambda allocation: allocation.stock_id not in from_stock_ids)  # stable: newest first within
    if forgiven is None:  # read before the allocations change below
        forgiven = shortfall_unreconciled({allocation.stock_id for allocation in allocations})
    taken: list[tuple[Stock, int]] = []
    for product_id, per_unit in components:
        need = units * per_unit
        for allocation in (a for a in allocations if a.stock.product_id == product_id):
            if not need:
                break
            take = min(need, allocation.quantity)
            taken.append((allocation.stock, take))
            if take == allocation.quantity:
                allocation.delete()
            else:
                Allocation.objects.filter(pk=allocation.pk).update(quantity=F("quantity") - take)
                allocation.quantity -= take
            released.append({"warehouse": allocation.stock.warehouse.code, "product_id": product_id, "quantity": take})
            need -= take
    stock_give_back(taken, forgiven=forgiven)
    return released


def stock_give_back(taken: Iterable[tuple[Stock, int]], *, forgiven: dict[int, int] | None = None) -> None:
    """Give back to stock the units taken off allocations (stock row, units), less what
    inventory already took back itself (``forgiven``, stock id → units, used up as it
    goes; by default whatever a short count took that is not reconciled yet, which is
    read from the allocations: call it before deleting them)."""
    taken = list(taken)
    if forgiven is None:
        forgiven = shortfall_unreconciled({stock.pk for stock, _ in taken})
    to_release: dict[tuple[int, int], int] = defaultdict(int)
    for stock, units in taken:
        free = min(units, forgiven.get(stock.pk, 0))
        if free:
            forgiven[stock.pk] -= free
        if units > free:
            to_release[(stock.product_id, stock.warehouse_id)] += units - free
    if to_release:
        stock_release(lines=[StockLine(p, w, q) for (p, w), q in to_release.items()])


def _components(lines: Iterable[OrderLine]) -> Components:
    return product_components(Product.objects.filter(pk__in={line.product_id for line in lines}))


@dataclass
class WaitingFilled:
    units: int
    lines: list[dict]
    reason: str
    candidates: list[dict]


def allocate_waiting(
    order: Order, lines: Sequence[OrderLine], *, components: Components | None = None
) -> WaitingFilled:
    """Reserve what stock can now cover of the lines' waiting units (the order is
    locked by the caller), lines in position order. Writes the lines and allocations;
    the caller writes the event and the order."""
    waiting = [line for line in lines if line.quantity_backordered]
    if not waiting:
        return WaitingFilled(0, [], "", [])
    components = components or _components(waiting)
    destination, warehouse_ids, pickup = order_destination(order)
    routed = stock_allocate_lines(
        seller_id=order.seller_id,
        requests=[
            LineRequest(
                quantity=line.quantity_backordered, components=components[line.product_id], sku=line.sku, partial=True
            )
            for line in waiting
        ],
        destination=destination,
        strategy=order.seller.routing_strategy,
        warehouse_ids=warehouse_ids,
        pickup=pickup,
    )
    filled = []
    for line, grant in zip(waiting, routed.grants, strict=True):
        if grant.granted:
            line.quantity_backordered -= grant.granted
            OrderLine.objects.filter(pk=line.pk).update(quantity_backordered=line.quantity_backordered)
            filled.append({"line_id": line.pk, "sku": line.sku, "quantity": grant.granted})
    _save_allocations(allocation_rows(waiting, routed))
    return WaitingFilled(sum(f["quantity"] for f in filled), filled, routed.plan.reason, routed.candidates)


def _save_order(order: Order, lines: Sequence[OrderLine], events: list[OrderEvent]) -> None:
    order.fulfillment_status = line_fulfillment(lines)
    order.save(update_fields=["fulfillment_status", "updated_at"])
    OrderEvent.objects.bulk_create(events)


def order_backorders_fill(*, seller_id: int, order_id: int, actor: Actor = SYSTEM) -> int:
    """Allocate what newly available stock covers of one order's waiting units."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        if order.lifecycle not in WAITING_LIFECYCLES:
            return 0
        lines = list(OrderLine.objects.filter(order=order).order_by("position"))
        filled = allocate_waiting(order, lines)
        if not filled.units:
            return 0
        event = order_event(
            order,
            EventType.BACKORDER_ALLOCATED,
            actor=actor,
            data={"lines": filled.lines, "reason": filled.reason, "candidates": filled.candidates},
        )
        _save_order(order, lines, [event])
        order_announce(order, "order.updated", change="backorder_allocated")
        return filled.units


def _waiting_units_sql(products: int) -> str:
    in_products = f"IN ({placeholders(products)})"
    in_lifecycles = f"IN ({placeholders(len(WAITING_LIFECYCLES))})"
    return f"""
WITH waiting AS MATERIALIZED (
    SELECT line.order_id, line.product_id, line.quantity_backordered
    FROM {OrderLine._meta.db_table} line
    WHERE line.quantity_backordered > 0
      AND (line.product_id {in_products}
           OR line.product_id IN (SELECT kit_id FROM {KitComponent._meta.db_table} WHERE component_id {in_products}))
)
SELECT COALESCE(part.component_id, waiting.product_id),
       SUM(waiting.quantity_backordered * COALESCE(part.quantity, 1))
FROM waiting
JOIN {Order._meta.db_table} o ON o.id = waiting.order_id
LEFT JOIN {KitComponent._meta.db_table} part
       ON part.kit_id = waiting.product_id AND part.component_id {in_products} AND waiting.product_id NOT {in_products}
WHERE o.seller_id = %s AND o.lifecycle {in_lifecycles}
GROUP BY 1
"""


def waiting_units(*, seller_id: int, product_ids: Iterable[int]) -> dict[int, int]:
    """Units per product (a kit's counted in its components) that open orders are
    waiting for: a new order must not take them. Every order placement asks this, so it
    is one statement that must stay cheap whatever the order count: the waiting lines
    are read first, from the partial index on them (MATERIALIZED keeps the planner from
    starting at the seller's orders instead, which it does when its statistics lag
    behind a busy sale and which then costs a probe per open order). Raw SQL because
    the ORM has no CTE; it runs on PostgreSQL and SQLite alike."""
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            _waiting_units_sql(len(product_ids)),
            [*product_ids, *product_ids, *product_ids, *product_ids, seller_id, *WAITING_LIFECYCLES],
        )
        return {product_id: int(units) for product_id, units in cursor.fetchall()}


def backorders_waiting(*, seller_id: int, product_ids: Iterable[int], limit: int = FILL_BATCH) -> list[int]:
    """Open orders with units waiting for any of the products (or for a kit made of
    them), oldest order first. Served by the partial index on waiting lines."""
    product_ids = set(product_ids)
    kit_ids = set(KitComponent.objects.filter(component_id__in=product_ids).values_list("kit_id", flat=True))
    rows = (
        OrderLine.objects.filter(
            quantity_backordered__gt=0,
            product_id__in=product_ids | kit_ids,
            order__seller_id=seller_id,
            order__lifecycle__in=WAITING_LIFECYCLES,
        )
        .order_by("order__placed_at", "order_id")
        .values_list("order_id", flat=True)[: limit * 4]
    )
    return list(dict.fromkeys(rows))[:limit]


def backorders_fill(*, seller_id: int, product_ids: Iterable[int]) -> int:
    """First come, first served: walk the waiting orders oldest first and give each
    what the stock now covers, until the stock or the queue runs out."""
    product_ids = set(product_ids)
    total = 0
    for order_id in backorders_waiting(seller_id=seller_id, product_ids=product_ids):
        total += order_backorders_fill(seller_id=seller_id, order_id=order_id)
        if not _any_available(seller_id, product_ids):
            break
    return total


def _any_available(seller_id: int, product_ids: set[int]) -> bool:
    return Stock.objects.filter(
        seller_id=seller_id, product_id__in=product_ids, warehouse__is_active=True, on_hand__gt=F("allocated")
    ).exists()


def _move_to_waiting(
    order: Order, lines: Sequence[OrderLine], units_by_line: dict[int, int], components: Components, **release
) -> list[dict]:
    moved = []
    for line in lines:
        units = min(units_by_line.get(line.pk, 0), line.quantity_open - line.quantity_backordered)
        if not units:
            continue
        released = release_line_units(line, units, components[line.product_id], **release)
        line.quantity_backordered += units
        OrderLine.objects.filter(pk=line.pk).update(quantity_backordered=line.quantity_backordered)
        moved.append({"line_id": line.pk, "sku": line.sku, "quantity": units, "from": released})
    return moved


def _reroute(order: Order, units_by_line: dict[int, int], *, why: str, actor: Actor, **release) -> None:
    lines = list(OrderLine.objects.filter(order=order).order_by("position"))
    components = _components(lines)
    moved = _move_to_waiting(order, lines, units_by_line, components, **release)
    if not moved:
        return
    filled = allocate_waiting(order, lines, components=components)
    waiting = sum(line.quantity_backordered for line in lines)
    event = order_event(
        order,
        EventType.REROUTED,
        actor=actor,
        data={
            "why": why,
            "moved": moved,
            "allocated": filled.lines,
            "still_waiting": waiting,
            "reason": filled.reason,
            "candidates": filled.candidates,
        },
    )
    _save_order(order, lines, [event])
    order_announce(order, "order.updated", change="rerouted")


def warehouse_orders_reroute(*, warehouse_id: int, actor: Actor = SYSTEM) -> int:
    """Route every open allocation of a closed warehouse elsewhere (what no other
    warehouse can cover waits as a backorder). Orders being picked are left alone."""
    warehouse = Warehouse.objects.get(pk=warehouse_id)
    if warehouse.is_active:
        return 0
    order_ids = list(
        Allocation.objects.filter(stock__warehouse_id=warehouse_id, line__order__lifecycle__in=MOVABLE_LIFECYCLES)
        .values_list("line__order_id", flat=True)
        .distinct()
    )
    closed_rows = set(Stock.objects.filter(warehouse_id=warehouse_id).values_list("pk", flat=True))
    for order_id in sorted(order_ids):
        with transaction.atomic():
            order = order_lock(seller_id=warehouse.seller_id, order_id=order_id)
            if not stock_may_move(order):
                continue
            units = _units_at(order, stock_filter={"stock__warehouse_id": warehouse_id})
            _reroute(
                order, units, why=f"Warehouse {warehouse.code} was closed.", actor=actor, from_stock_ids=closed_rows
            )
    return len(order_ids)


def _units_at(order: Order, *, stock_filter: dict, budget: int | None = None) -> dict[int, int]:
    """Line units (kit units for a kit) that hold stock matching ``stock_filter``; with
    a budget of component units, only as many allocations (newest first) as it takes."""
    per_unit = {
        (kit_id, component_id): quantity
        for kit_id, component_id, quantity in KitComponent.objects.filter(
            kit_id__in=OrderLine.objects.filter(order=order).values("product_id")
        ).values_list("kit_id", "component_id", "quantity")
    }
    taken: dict[tuple[int, int], int] = defaultdict(int)  # (line, product in stock) → units
    line_products: dict[int, int] = {}
    rows = Allocation.objects.filter(line__order=order, **stock_filter).select_related("line", "stock").order_by("-id")
    for allocation in rows:
        take = allocation.quantity if budget is None else min(budget, allocation.quantity)
        if take <= 0:
            break
        taken[(allocation.line_id, allocation.stock.product_id)] += take
        line_products[allocation.line_id] = allocation.line.product_id
        if budget is not None:
            budget -= take
    # A kit's components sit in rows of their own: one kit here is one kit whichever of
    # its components are counted, so a line's units are its most-touched component's.
    units: dict[int, int] = defaultdict(int)
    for (line_id, product_id), component_units in taken.items():
        per = per_unit.get((line_products[line_id], product_id), 1)
        units[line_id] = max(units[line_id], math.ceil(component_units / per))
    return dict(units)


def _excess_at(stock_id: int) -> int:
    """Units the stock row's allocations hold beyond what the row still counts."""
    # The row is locked first: the allocations are then summed as of after every change
    # that held the lock before (another order's release, a placement) committed.
    allocated = Stock.objects.select_for_update().get(pk=stock_id).allocated
    held = Allocation.objects.filter(stock_id=stock_id).aggregate(total=Sum("quantity"))["total"] or 0
    return held - allocated


def _kit_may_have_left_in_part(order: Order) -> bool:
    """An order with a kit line and a parcel shipped: the parcel may have carried part
    of a kit, which then cannot wait for stock as a whole kit."""
    lines = list(OrderLine.objects.filter(order=order).select_related("product"))
    return any(line.product.kind == ProductKind.KIT for line in lines) and order_has_shipped(order, lines)


def stock_shortfall_reconcile(*, stock_id: int, actor: Actor = SYSTEM) -> int:
    """A count or an adjustment found fewer units than were allocated in a stock row;
    inventory cut its ``allocated`` already. Take the missing units off the newest open
    orders' allocations there and route them again (what no other warehouse covers
    waits as a backorder). Orders the warehouse is already picking lose units only when
    the orders not yet started cannot make up the shortfall: their picked or packed
    shipment is then cut to what they still hold (the shipping app's sync does that on
    ``order.updated``). An order one of whose kits may have shipped in part is left as
    it is (logged). Returns the orders touched."""
    stock = Stock.objects.select_related("warehouse").get(pk=stock_id)
    holders = (
        Allocation.objects.filter(stock_id=stock_id, line__order__lifecycle__in=WAITING_LIFECYCLES)
        .order_by("-line__order__placed_at", "-line__order_id")
        .values_list("line__order_id", flat=True)
    )
    candidates = list(dict.fromkeys(holders))
    touched = 0
    # Two passes: orders whose stock may still move first, then those being picked.
    for picking in (False, True):
        for order_id in candidates:
            # Lock order: the order first, then the stock row (as every order change does).
            with transaction.atomic():
                order = order_lock(seller_id=stock.seller_id, order_id=order_id)
                excess = _excess_at(stock_id)
                if excess <= 0:
                    return touched
                if order.lifecycle not in WAITING_LIFECYCLES or stock_may_move(order) == picking:
                    continue
                if picking and _kit_may_have_left_in_part(order):
                    continue  # a kit waits whole: one whose parts have shipped cannot
                mine = Allocation.objects.filter(stock_id=stock_id, line__order=order).aggregate(total=Sum("quantity"))
                forgive = min(excess, mine["total"] or 0)
                if not forgive:
                    continue
                _reroute(
                    order,
                    _units_at(order, stock_filter={"stock_id": stock_id}, budget=forgive),
                    why=f"A stock count in {stock.warehouse.code} found fewer units than were allocated.",
                    actor=actor,
                    forgiven={stock_id: forgive},
                    from_stock_ids={stock_id},
                )
                touched += 1
    with transaction.atomic():
        if (excess := _excess_at(stock_id)) > 0:
            logger.error("Stock %s (%s): %s missing units are still held by orders", stock_id, stock, excess)
    return touched


def order_allocation_override(
    *, seller_id: int, order_id: int, choices: dict[int, int], actor: Actor, reason: str = ""
) -> Order:
    """Staff choose the warehouse for lines (line id → warehouse id): each chosen line's
    open units are released and reserved again in that warehouse, all or nothing. The
    warehouse must be active and ship to the order's destination."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        if not stock_may_move(order):
            raise OrderNotEditable(
                "Only orders not yet being picked can be re-allocated.", details={"lifecycle": order.lifecycle}
            )
        lines = list(OrderLine.objects.filter(order=order).order_by("position"))
        by_id = {line.pk: line for line in lines}
        warehouses = Warehouse.objects.in_bulk(set(choices.values()))
        errors = {}
        for line_id, warehouse_id in choices.items():
            warehouse = warehouses.get(warehouse_id)
            if line_id not in by_id or not by_id[line_id].quantity_open:
                errors[f"lines.{line_id}"] = ["No open units on this line."]
            elif warehouse is None or warehouse.seller_id != seller_id or not warehouse.is_active:
                errors[f"lines.{line_id}"] = ["Choose one of the seller's active warehouses."]
            elif order.delivery_method == DeliveryMethod.PICKUP and warehouse.pk != order.pickup_warehouse_id:
                errors[f"lines.{line_id}"] = ["A click-and-collect order ships from its pickup location only."]
            elif order.delivery_method == DeliveryMethod.SHIP and not warehouse.ships_to_country(order.ship_country):
                errors[f"lines.{line_id}"] = [f"{warehouse.code} does not ship to {order.ship_country}."]
        if errors:
            raise InvalidOrder(details=errors)
        components = _components(lines)
        destination, _, _ = order_destination(order)
        changes = []
        for line_id, warehouse_id in sorted(choices.items()):
            line = by_id[line_id]
            before = release_line_units(
                line, line.quantity_open - line.quantity_backordered, components[line.product_id]
            )
            routed = stock_allocate_lines(
                seller_id=seller_id,
                requests=[LineRequest(line.quantity_open, components[line.product_id], line.sku)],
                destination=destination,
                warehouse_ids=[warehouse_id],
                pickup=True,  # the check above stands in for the ships-to rule
                explain=False,
            )
            _save_allocations(allocation_rows([line], routed))
            line.quantity_backordered = 0
            OrderLine.objects.filter(pk=line.pk).update(quantity_backordered=0)
            changes.append(
                {"line_id": line.pk, "sku": line.sku, "before": before, "warehouse": warehouses[warehouse_id].code}
            )
        event = order_event(
            order, EventType.ALLOCATION_OVERRIDDEN, actor=actor, data={"lines": changes, "reason": reason}
        )
        _save_order(order, lines, [event])
        order_announce(order, "order.updated", change="allocation_overridden")
    return order


def order_ready_for_pickup(*, seller_id: int, order_id: int, actor: Actor) -> Order:
    """A click-and-collect order is waiting at its location: stamp it, record it, and
    tell the customer (email and the ``order.ready_for_pickup`` webhook)."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        if order.delivery_method != DeliveryMethod.PICKUP:
            raise OrderNotEditable("This order is shipped, not collected.", details={"delivery_method": "ship"})
        if order.lifecycle not in (Lifecycle.CONFIRMED, Lifecycle.IN_FULFILLMENT) or order.ready_for_pickup_at:
            raise OrderNotEditable(
                "Only a confirmed order not yet marked ready can be made ready for pickup.",
                details={"lifecycle": order.lifecycle, "ready_for_pickup_at": order.ready_for_pickup_at},
            )
        if OrderLine.objects.filter(order=order, quantity_backordered__gt=0).exists():
            raise OrderNotEditable("Part of this order is still waiting for stock.", details={"backordered": True})
        order.ready_for_pickup_at = timezone.now()
        order.save(update_fields=["ready_for_pickup_at", "updated_at"])
        order_event(
            order,
            EventType.READY_FOR_PICKUP,
            actor=actor,
            data={"location": order.pickup_warehouse.code},
        ).save()
        order_announce(order, "order.ready_for_pickup", location=order.pickup_warehouse.code)
    return order


def _event_product_ids(event: OutboxEvent) -> list[int]:
    return [int(p) for p in event.payload.get("product_ids", [])]


def backorders_sweep() -> int:
    """The safety net behind ``stock.available``: waiting units whose stock is free now
    (a lost task, a broker outage) are filled, oldest order first. Cheap when nothing
    waits: one query on the partial index of waiting lines."""
    waiting = (
        OrderLine.objects.filter(quantity_backordered__gt=0, order__lifecycle__in=WAITING_LIFECYCLES)
        .values_list("order__seller_id", "product_id", "product__kind")
        .distinct()
    )
    per_seller: dict[int, set[int]] = defaultdict(set)
    kits: dict[int, set[int]] = defaultdict(set)
    for seller_id, product_id, kind in waiting:
        (kits if kind == ProductKind.KIT else per_seller)[seller_id].add(product_id)
    for seller_id, kit_ids in kits.items():
        per_seller[seller_id].update(
            KitComponent.objects.filter(kit_id__in=kit_ids).values_list("component_id", flat=True)
        )
    return sum(
        backorders_fill(seller_id=seller_id, product_ids=product_ids)
        for seller_id, product_ids in per_seller.items()
        if _any_available(seller_id, product_ids)
    )


# Outbox handlers: they run inside the dispatch's transaction, so they only queue the
# work (a task per event, after commit); the task takes each order's locks in a
# transaction of its own. A task lost to a broker outage is made up by the sweep.
def on_stock_available(event: OutboxEvent) -> None:
    transaction.on_commit(
        partial(backorders_fill_task.delay, seller_id=event.seller_id, product_ids=_event_product_ids(event)),
        robust=True,
    )


def on_stock_shortfall(event: OutboxEvent) -> None:
    transaction.on_commit(
        partial(stock_shortfall_reconcile_task.delay, stock_id=int(event.payload["stock_id"])), robust=True
    )


def on_warehouse_deactivated(event: OutboxEvent) -> None:
    transaction.on_commit(
        partial(warehouse_orders_reroute_task.delay, warehouse_id=int(event.payload["warehouse_id"])), robust=True
    )
