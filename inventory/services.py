"""Every write to stock. ``on_hand`` only changes with a ledger row in the same
transaction; ``allocated`` only changes under the row lock with an ``F()`` update, and
the CHECK constraints back up both. Services nest with ``savepoint=False``: they join
the caller's transaction when there is one and open their own otherwise."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.db import transaction
from django.db.models import F

from core.actor import Actor
from core.fastsql import placeholders, write
from core.outbox import outbox_record
from inventory.exceptions import InsufficientStock, InvalidStockChange, StockConflict
from inventory.locks import routing_stocks_locked, stocks_for_update
from inventory.models import LedgerKind, Product, Stock, StockLedgerEntry, Warehouse
from inventory.routing.base import Demand, Destination, RoutingPlan, Shortage, find_shortages, merge_demands
from inventory.selectors import eligible_warehouses, routing_candidates, routing_plan

# Domain events for the apps above (orders fills backorders and re-routes from them).
STOCK_AVAILABLE = "stock.available"  # more units may be promised: {"product_ids": [...]}
STOCK_SHORTFALL = "stock.shortfall"  # a count or adjustment left fewer units than were allocated
WAREHOUSE_DEACTIVATED = "warehouse.deactivated"


def _announce_available(seller_id: int, product_ids: Iterable[int]) -> None:
    product_ids = sorted(set(product_ids))
    outbox_record(
        topic=STOCK_AVAILABLE,
        seller_id=seller_id,
        aggregate_type="product",
        aggregate_id=product_ids[0],
        payload={"product_ids": product_ids},
    )


@dataclass(frozen=True, slots=True)
class StockLine:
    """Units of one product in one warehouse: what to reserve, release or ship."""

    product_id: int
    warehouse_id: int
    quantity: int


@dataclass(frozen=True)
class Allocation:
    plan: RoutingPlan
    stocks: dict[tuple[int, int], Stock]  # (product_id, warehouse_id) → the locked row, warehouse loaded

    def stock_for(self, product_id: int, warehouse_id: int) -> Stock:
        return self.stocks[(product_id, warehouse_id)]


def _merge(lines: Iterable[StockLine]) -> dict[tuple[int, int], int]:
    merged: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        if line.quantity <= 0:
            raise InvalidStockChange("Quantities must be positive.", details={"quantity": [str(line.quantity)]})
        merged[(line.product_id, line.warehouse_id)] += line.quantity
    return dict(merged)


def _lock(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Stock]:
    keys = set(keys)
    product_ids = {p for p, _ in keys}
    warehouse_ids = {w for _, w in keys}
    rows = stocks_for_update().filter(product_id__in=product_ids, warehouse_id__in=warehouse_ids)
    return {(s.product_id, s.warehouse_id): s for s in rows if (s.product_id, s.warehouse_id) in keys}


@lru_cache(maxsize=64)
def _add_allocated_sql(rows: int) -> str:
    table = Stock._meta.db_table
    cases = " ".join(["WHEN %s THEN %s"] * rows)
    return (
        f'UPDATE "{table}" SET "allocated" = "allocated" + CASE "id" {cases} END WHERE "id" IN ({placeholders(rows)})'
    )


def _add_allocated(deltas: dict[int, int]) -> None:
    """One UPDATE for every row: allocated += delta per stock id. Every order placement
    runs it; the statement text is kept per row count, as the ORM would compile the
    same CASE anew each time (core.fastsql says what that costs). The rows are locked
    and nothing reads the answer, so in a placement it goes with the next statement
    (``core.fastsql.write``)."""
    if not deltas:
        return
    params = [value for pk, delta in deltas.items() for value in (pk, delta)]
    write(_add_allocated_sql(len(deltas)), [*params, *deltas])


def _change_on_hand(
    *,
    stock: Stock,
    delta: int,
    kind: LedgerKind,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    allocated_delta: int = 0,
    shortfall_allowed: bool = False,
) -> StockLedgerEntry:
    """Apply ``delta`` to a locked row's on_hand and write its ledger row.

    With ``shortfall_allowed`` (a count or an adjustment: the units are simply not
    there), on hand may drop below what is allocated: allocated is cut to on hand in the
    same UPDATE, so the row never promises units it lacks, and a ``stock.shortfall``
    event tells orders to take the lost units off its newest allocations there and
    route them again."""
    new_on_hand = stock.on_hand + delta
    new_allocated = stock.allocated + allocated_delta
    if shortfall_allowed and 0 <= new_on_hand < new_allocated:
        shortfall = new_allocated - new_on_hand
        allocated_delta -= shortfall
        new_allocated = new_on_hand
        outbox_record(
            topic=STOCK_SHORTFALL,
            seller_id=stock.seller_id,
            aggregate_type="stock",
            aggregate_id=stock.pk,
            payload={
                "stock_id": stock.pk,
                "product_id": stock.product_id,
                "warehouse_id": stock.warehouse_id,
                "units": shortfall,
            },
        )
    if new_allocated < 0 or new_on_hand < new_allocated:
        raise StockConflict(
            f"On hand would be {new_on_hand} with {new_allocated} allocated.",
            details={"on_hand": stock.on_hand, "allocated": stock.allocated, "change": delta},
        )
    Stock.objects.filter(pk=stock.pk).update(on_hand=F("on_hand") + delta, allocated=F("allocated") + allocated_delta)
    stock.on_hand, stock.allocated = new_on_hand, new_allocated
    return StockLedgerEntry.objects.create(
        seller_id=stock.seller_id,
        stock=stock,
        kind=kind,
        quantity=delta,
        balance_after=new_on_hand,
        reason=reason,
        reference=reference,
        actor_kind=actor.kind,
        actor_label=actor.label,
        actor_user_id=actor.user_id,
    )


def _lock_or_create(*, product: Product, warehouse: Warehouse) -> Stock:
    if product.seller_id != warehouse.seller_id:
        raise InvalidStockChange("Product and warehouse belong to different sellers.")
    Stock.objects.get_or_create(product=product, warehouse=warehouse, defaults={"seller_id": product.seller_id})
    return stocks_for_update().get(product=product, warehouse=warehouse)


def stock_receive(
    *,
    product: Product,
    warehouse: Warehouse,
    quantity: int,
    actor: Actor,
    reference: str = "",
    reason: str = "",
    kind: LedgerKind = LedgerKind.RECEIPT,
) -> Stock:
    """Units arrive (a delivery, a purchase order, a restocked return)."""
    if quantity <= 0:
        raise InvalidStockChange("A receipt must add at least one unit.", details={"quantity": [str(quantity)]})
    if kind not in (LedgerKind.RECEIPT, LedgerKind.RETURN_RESTOCK):
        raise InvalidStockChange(f"{kind} is not a kind of receipt.")
    with transaction.atomic(savepoint=False):
        stock = _lock_or_create(product=product, warehouse=warehouse)
        _change_on_hand(stock=stock, delta=quantity, kind=kind, actor=actor, reason=reason, reference=reference)
        _announce_available(stock.seller_id, [stock.product_id])
    return stock


def stock_adjust(*, product: Product, warehouse: Warehouse, delta: int, reason: str, actor: Actor) -> Stock:
    """A correction by a person (damage, loss, found units). The reason is required."""
    if delta == 0:
        raise InvalidStockChange("An adjustment must change the quantity.", details={"delta": ["Must not be 0."]})
    if not reason.strip():
        raise InvalidStockChange("An adjustment needs a reason.", details={"reason": ["This field is required."]})
    with transaction.atomic(savepoint=False):
        stock = _lock_or_create(product=product, warehouse=warehouse)
        _change_on_hand(
            stock=stock, delta=delta, kind=LedgerKind.ADJUSTMENT, actor=actor, reason=reason, shortfall_allowed=True
        )
        if delta > 0:
            _announce_available(stock.seller_id, [stock.product_id])
    return stock


def stock_count(*, product: Product, warehouse: Warehouse, counted: int, actor: Actor, reason: str = "") -> Stock:
    """A physical count sets on hand to what was counted; the difference is the entry."""
    if counted < 0:
        raise InvalidStockChange("A count cannot be negative.", details={"counted": [str(counted)]})
    with transaction.atomic(savepoint=False):
        stock = _lock_or_create(product=product, warehouse=warehouse)
        if counted != stock.on_hand:
            delta = counted - stock.on_hand
            _change_on_hand(
                stock=stock, delta=delta, kind=LedgerKind.COUNT, actor=actor, reason=reason, shortfall_allowed=True
            )
            if delta > 0:
                _announce_available(stock.seller_id, [stock.product_id])
    return stock


def stock_reserve(*, lines: Sequence[StockLine]) -> None:
    """Reserve units in named warehouses, all or nothing."""
    wanted = _merge(lines)
    with transaction.atomic(savepoint=False):
        locked = _lock(wanted)
        available = {key: stock.available for key, stock in locked.items()}
        shortages = [
            Shortage(product_id=key[0], requested=requested, available=have)
            for key, requested, have in find_shortages(wanted, available)
        ]
        if shortages:
            raise InsufficientStock(shortages)
        _add_allocated({locked[key].pk: qty for key, qty in wanted.items()})


def stock_release(*, lines: Sequence[StockLine]) -> None:
    """Give reserved units back (a cancelled order or line)."""
    wanted = _merge(lines)
    with transaction.atomic(savepoint=False):
        locked = _lock(wanted)
        for key, qty in wanted.items():
            if key not in locked or locked[key].allocated < qty:
                raise StockConflict(
                    "Cannot release more than is allocated.",
                    details={"product_id": key[0], "warehouse_id": key[1], "release": qty},
                )
        _add_allocated({locked[key].pk: -qty for key, qty in wanted.items()})
        _announce_available(next(iter(locked.values())).seller_id, [product_id for product_id, _ in wanted])


def stock_ship(*, lines: Sequence[StockLine], actor: Actor, reference: str = "") -> None:
    """Reserved units leave the building: on hand and allocated drop together."""
    wanted = _merge(lines)
    with transaction.atomic(savepoint=False):
        locked = _lock(wanted)
        for key, qty in sorted(wanted.items()):
            stock = locked.get(key)
            if stock is None or stock.allocated < qty:
                raise StockConflict(
                    "Only allocated units can be shipped.",
                    details={"product_id": key[0], "warehouse_id": key[1], "ship": qty},
                )
            _change_on_hand(
                stock=stock,
                delta=-qty,
                allocated_delta=-qty,
                kind=LedgerKind.SHIPMENT,
                actor=actor,
                reference=reference,
            )


def stock_allocate(
    *, seller_id: int, demands: Sequence[Demand], destination: Destination, strategy: str | None = None
) -> Allocation:
    """Route the demand and reserve it, all or nothing, in the caller's transaction.

    One query locks every candidate stock row (``routing_stocks``: the wanted products
    in the seller's active warehouses, in pk order) and brings their warehouses along;
    the strategy decides on the locked numbers; one UPDATE reserves. Nothing is
    reserved if any unit is short. ``routing_preview`` is the same routing, unlocked.
    """
    with transaction.atomic(savepoint=False):
        rows = list(routing_stocks_locked(seller_id=seller_id, product_ids=[d.product_id for d in demands]))
        plan = routing_plan(rows, demands=demands, destination=destination, strategy=strategy)
        if plan.shortages:
            raise InsufficientStock(plan.shortages)
        stocks = {(s.product_id, s.warehouse_id): s for s in rows}
        deltas: dict[int, int] = defaultdict(int)
        for assignment in plan.assignments:
            deltas[stocks[(assignment.product_id, assignment.warehouse_id)].pk] += assignment.quantity
        _add_allocated(dict(deltas))
    return Allocation(plan=plan, stocks=stocks)


@dataclass(frozen=True, slots=True)
class LineRequest:
    """One order line's need: ``quantity`` units of something sold from ``components``,
    (product_id, units per sold unit) pairs: a kit's components, or the product itself.
    ``partial``: units stock cannot cover now may wait (a backorder) instead of refusing."""

    quantity: int
    components: tuple[tuple[int, int], ...]
    sku: str = ""
    partial: bool = False


@dataclass(frozen=True, slots=True)
class LineGrant:
    """What a request got: ``granted`` units of the line (the rest waits), taken as
    ``parts``, (product_id, warehouse_id, units) reserved for it."""

    granted: int
    parts: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class LinesAllocation:
    plan: RoutingPlan
    grants: list[LineGrant]
    candidates: list[dict]  # the explanation: see routing_candidates
    stocks: dict[tuple[int, int], Stock]

    def stock_for(self, product_id: int, warehouse_id: int) -> Stock:
        return self.stocks[(product_id, warehouse_id)]


def grant_lines(requests: Sequence[LineRequest], available: dict[int, int]) -> tuple[list[int], list[Shortage]]:
    """How many units of each line stock can cover, first line first, whole units only
    (a kit takes all its components or nothing), from ``available`` units per product
    summed over the eligible warehouses. A line that may not wait and is not covered
    in full is a shortage, reported per product against everything asked of it."""
    left = dict(available)
    granted: list[int] = []
    short_products: set[int] = set()
    for request in requests:
        units = request.quantity
        for product_id, per_unit in request.components:
            units = min(units, left.get(product_id, 0) // per_unit)
        if units < request.quantity and not request.partial:
            short_products.update(
                product_id
                for product_id, per_unit in request.components
                if left.get(product_id, 0) < request.quantity * per_unit
            )
        for product_id, per_unit in request.components:
            left[product_id] = left.get(product_id, 0) - units * per_unit
        granted.append(units)
    asked: dict[int, int] = defaultdict(int)
    skus: dict[int, str] = {}
    for request in requests:
        for product_id, per_unit in request.components:
            asked[product_id] += request.quantity * per_unit
            if len(request.components) == 1:
                skus.setdefault(product_id, request.sku)
    shortages = [
        Shortage(product_id=p, requested=asked[p], available=available.get(p, 0), sku=skus.get(p, ""))
        for p in sorted(short_products)
    ]
    return granted, shortages


def split_among_lines(
    requests: Sequence[LineRequest], granted: Sequence[int], plan: RoutingPlan
) -> list[tuple[tuple[int, int, int], ...]]:
    """Hand each line its share of the plan's per-product assignments, in line order."""
    pools: dict[int, list[list[int]]] = defaultdict(list)
    for assignment in plan.assignments:
        pools[assignment.product_id].append([assignment.warehouse_id, assignment.quantity])
    shares = []
    for request, units in zip(requests, granted, strict=True):
        parts = []
        for product_id, per_unit in request.components:
            need, pool = units * per_unit, pools[product_id]
            while need:
                warehouse_id, left = pool[0]
                take = min(left, need)
                parts.append((product_id, warehouse_id, take))
                need -= take
                if take == left:
                    pool.pop(0)
                else:
                    pool[0][1] = left - take
        shares.append(tuple(parts))
    return shares


def stock_allocate_lines(
    *,
    seller_id: int,
    requests: Sequence[LineRequest],
    destination: Destination,
    strategy: str | None = None,
    warehouse_ids: Sequence[int] | None = None,
    pickup: bool = False,
    explain: bool = True,
    held_back: dict[int, int] | None = None,
) -> LinesAllocation:
    """Route and reserve order lines in the caller's transaction: kits from their
    components, backorderable lines as far as stock goes, the rest all or nothing.

    One query locks every candidate row (as ``stock_allocate``); ``grant_lines`` decides
    how much of each line stock covers; the strategy routes exactly that (it is always
    coverable, so the plan has no shortages); one UPDATE reserves. ``warehouse_ids``
    limits the candidates (a staff override; a click-and-collect order, which passes
    ``pickup`` so the location's own ships-to list does not apply). ``held_back``:
    units per product promised to older orders still waiting for them, which a new
    order may not take (first come, first served). Raises
    InsufficientStock, reserving nothing, when a line that may not wait is short."""
    product_ids = {product_id for r in requests for product_id, _ in r.components}
    with transaction.atomic(savepoint=False):
        rows = list(routing_stocks_locked(seller_id=seller_id, product_ids=product_ids, warehouse_ids=warehouse_ids))
        eligible = eligible_warehouses(rows, destination, pickup=pickup)
        available: dict[int, int] = defaultdict(int)
        for s in rows:
            if s.warehouse_id in eligible:
                available[s.product_id] += s.available
        for product_id, units in (held_back or {}).items():
            if product_id in available:
                available[product_id] = max(available[product_id] - units, 0)
        granted, shortages = grant_lines(requests, available)
        if shortages:
            raise InsufficientStock(shortages)
        demands = merge_demands(
            [
                Demand(product_id=product_id, quantity=units * per_unit, sku=r.sku)
                for r, units in zip(requests, granted, strict=True)
                for product_id, per_unit in r.components
                if units
            ]
        )
        if demands:
            plan = routing_plan(rows, demands=demands, destination=destination, strategy=strategy, pickup=pickup)
        else:
            plan = RoutingPlan(assignments=(), reason="Nothing is in stock yet: every unit waits.")
        stocks = {(s.product_id, s.warehouse_id): s for s in rows}
        deltas: dict[int, int] = defaultdict(int)
        for assignment in plan.assignments:
            deltas[stocks[(assignment.product_id, assignment.warehouse_id)].pk] += assignment.quantity
        _add_allocated(dict(deltas))
        candidates = (
            routing_candidates(rows, demands=demands, destination=destination, plan=plan, pickup=pickup)
            if explain and demands
            else []
        )
    grants = [
        LineGrant(granted=units, parts=parts)
        for units, parts in zip(granted, split_among_lines(requests, granted, plan), strict=True)
    ]
    return LinesAllocation(plan=plan, grants=grants, candidates=candidates, stocks=stocks)


def warehouse_set_active(*, warehouse: Warehouse, active: bool, actor: Actor) -> Warehouse:
    """Open or close a warehouse for routing. Closing it tells orders to route its open
    allocations elsewhere; opening it makes its stock available to waiting backorders."""
    with transaction.atomic(savepoint=False):
        warehouse = Warehouse.objects.select_for_update().get(pk=warehouse.pk)
        if warehouse.is_active == active:
            return warehouse
        warehouse.is_active = active
        warehouse.save(update_fields=["is_active", "updated_at"])
        if active:
            product_ids = list(Stock.objects.filter(warehouse=warehouse).values_list("product_id", flat=True))
            if product_ids:
                _announce_available(warehouse.seller_id, product_ids)
        else:
            outbox_record(
                topic=WAREHOUSE_DEACTIVATED,
                seller_id=warehouse.seller_id,
                aggregate_type="warehouse",
                aggregate_id=warehouse.pk,
                payload={"warehouse_id": warehouse.pk, "by": actor.label},
            )
    return warehouse
