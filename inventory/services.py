"""Every write to stock. ``on_hand`` only changes with a ledger row in the same
transaction; ``allocated`` only changes under the row lock with an ``F()`` update, and
the CHECK constraints back up both. Services nest with ``savepoint=False``: they join
the caller's transaction when there is one and open their own otherwise."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, F, IntegerField, Value, When

from core.actor import Actor
from inventory.exceptions import InsufficientStock, InvalidStockChange, StockConflict
from inventory.locks import stocks_for_update
from inventory.models import LedgerKind, Product, Stock, StockLedgerEntry, Warehouse
from inventory.routing.base import Demand, Destination, RoutingPlan, Shortage, find_shortages
from inventory.selectors import routing_plan, routing_stocks


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


def _add_allocated(deltas: dict[int, int]) -> None:
    """One UPDATE for every row: allocated += delta per stock id."""
    if not deltas:
        return
    Stock.objects.filter(pk__in=deltas).update(
        allocated=F("allocated")
        + Case(*(When(pk=pk, then=Value(d)) for pk, d in deltas.items()), output_field=IntegerField())
    )


def _change_on_hand(
    *,
    stock: Stock,
    delta: int,
    kind: LedgerKind,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    allocated_delta: int = 0,
) -> StockLedgerEntry:
    """Apply ``delta`` to a locked row's on_hand and write its ledger row."""
    new_on_hand = stock.on_hand + delta
    new_allocated = stock.allocated + allocated_delta
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
    return stock


def stock_adjust(*, product: Product, warehouse: Warehouse, delta: int, reason: str, actor: Actor) -> Stock:
    """A correction by a person (damage, loss, found units). The reason is required."""
    if delta == 0:
        raise InvalidStockChange("An adjustment must change the quantity.", details={"delta": ["Must not be 0."]})
    if not reason.strip():
        raise InvalidStockChange("An adjustment needs a reason.", details={"reason": ["This field is required."]})
    with transaction.atomic(savepoint=False):
        stock = _lock_or_create(product=product, warehouse=warehouse)
        _change_on_hand(stock=stock, delta=delta, kind=LedgerKind.ADJUSTMENT, actor=actor, reason=reason)
    return stock


def stock_count(*, product: Product, warehouse: Warehouse, counted: int, actor: Actor, reason: str = "") -> Stock:
    """A physical count sets on hand to what was counted; the difference is the entry."""
    if counted < 0:
        raise InvalidStockChange("A count cannot be negative.", details={"counted": [str(counted)]})
    with transaction.atomic(savepoint=False):
        stock = _lock_or_create(product=product, warehouse=warehouse)
        if counted != stock.on_hand:
            _change_on_hand(
                stock=stock, delta=counted - stock.on_hand, kind=LedgerKind.COUNT, actor=actor, reason=reason
            )
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
        rows = list(
            routing_stocks(seller_id=seller_id, product_ids=[d.product_id for d in demands], stocks=stocks_for_update())
        )
        plan = routing_plan(rows, demands=demands, destination=destination, strategy=strategy)
        if plan.shortages:
            raise InsufficientStock(plan.shortages)
        stocks = {(s.product_id, s.warehouse_id): s for s in rows}
        deltas: dict[int, int] = defaultdict(int)
        for assignment in plan.assignments:
            deltas[stocks[(assignment.product_id, assignment.warehouse_id)].pk] += assignment.quantity
        _add_allocated(dict(deltas))
    return Allocation(plan=plan, stocks=stocks)
