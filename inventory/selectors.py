from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from core.exceptions import ValidationFailed
from inventory.models import Product, Stock, Warehouse
from inventory.routing import get_strategy
from inventory.routing.base import Demand, Destination, RoutingPlan, Shortage, WarehouseOption
from inventory.routing.cost import distance_km, format_cost, shipment_cost


@dataclass(frozen=True)
class WarehouseAvailability:
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


@dataclass(frozen=True)
class ProductAvailability:
    """Available-to-promise for one product: on hand − allocated over active warehouses."""

    product_id: int
    warehouses: list[WarehouseAvailability] = field(default_factory=list)

    @property
    def on_hand(self) -> int:
        return sum(w.on_hand for w in self.warehouses)

    @property
    def allocated(self) -> int:
        return sum(w.allocated for w in self.warehouses)

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


def product_list(*, seller_id: int) -> QuerySet[Product]:
    return Product.objects.filter(seller_id=seller_id)


def product_availability(*, seller_id: int, product_ids: Iterable[int]) -> dict[int, ProductAvailability]:
    """Per-product, per-warehouse availability in one query; active warehouses only."""
    product_ids = list(product_ids)
    per_product: dict[int, list[WarehouseAvailability]] = defaultdict(list)
    rows = (
        Stock.objects.filter(seller_id=seller_id, product_id__in=product_ids, warehouse__is_active=True)
        .order_by("warehouse__priority", "warehouse__code")
        .values_list("product_id", "warehouse_id", "warehouse__code", "on_hand", "allocated")
    )
    for product_id, warehouse_id, code, on_hand, allocated in rows:
        per_product[product_id].append(WarehouseAvailability(warehouse_id, code, on_hand, allocated))
    return {pid: ProductAvailability(product_id=pid, warehouses=per_product.get(pid, [])) for pid in product_ids}


def warehouse_option(warehouse: Warehouse) -> WarehouseOption:
    return WarehouseOption(
        warehouse_id=warehouse.pk,
        code=warehouse.code,
        priority=warehouse.priority,
        ships_to=frozenset(warehouse.ships_to or ()),
        latitude=warehouse.latitude,
        longitude=warehouse.longitude,
        handling_cost=warehouse.handling_cost.amount,
    )


def routing_stocks(
    *, seller_id: int, product_ids: Iterable[int], stocks: QuerySet[Stock] | None = None
) -> QuerySet[Stock]:
    """The candidates for routing: stock rows of the wanted products in the seller's
    active warehouses, warehouses loaded, in pk order. Only warehouses that hold a
    wanted product can fill it. ``stocks`` narrows the base queryset (stock_allocate
    passes the locking one)."""
    base = Stock.objects.order_by("pk") if stocks is None else stocks
    return base.filter(seller_id=seller_id, product_id__in=set(product_ids), warehouse__is_active=True).select_related(
        "warehouse"
    )


def routing_plan(
    rows: Sequence[Stock], *, demands: Sequence[Demand], destination: Destination, strategy: str | None
) -> RoutingPlan:
    """The strategy's plan over ``rows`` (from ``routing_stocks``): what the warehouses
    that ship to the destination can spare."""
    warehouses = list({s.warehouse_id: warehouse_option(s.warehouse) for s in rows}.values())
    eligible = {w.warehouse_id for w in warehouses if w.ships_to_country(destination.country)}
    available = {(s.product_id, s.warehouse_id): s.available for s in rows if s.warehouse_id in eligible}
    return get_strategy(strategy).plan(
        demands=demands, destination=destination, warehouses=warehouses, available=available
    )


def routing_demands(*, seller_id: int, lines: Sequence[tuple[str, int]]) -> list[Demand]:
    """(sku, quantity) lines → demands on the seller's products. Unknown or inactive
    SKUs raise ValidationFailed keyed ``lines.N.sku``, as order placement does."""
    products = {p.sku: p for p in Product.objects.filter(seller_id=seller_id, sku__in={sku for sku, _ in lines})}
    errors: dict[str, list[str]] = {}
    for index, (sku, _) in enumerate(lines):
        product = products.get(sku)
        if product is None:
            errors[f"lines.{index}.sku"] = [f"Unknown SKU {sku!r}."]
        elif not product.is_active:
            errors[f"lines.{index}.sku"] = [f"{sku!r} is not for sale."]
    if errors:
        raise ValidationFailed(details=errors)
    return [Demand(product_id=products[sku].pk, quantity=quantity, sku=sku) for sku, quantity in lines]


@dataclass(frozen=True, slots=True)
class PreviewLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class PreviewShipment:
    warehouse: str
    lines: tuple[PreviewLine, ...]
    distance_km: float | None
    cost: str


@dataclass(frozen=True)
class RoutingPreview:
    strategy: str
    destination: Destination
    shipments: tuple[PreviewShipment, ...]
    shortages: tuple[Shortage, ...]
    reason: str


def routing_preview(
    *, seller_id: int, demands: Sequence[Demand], destination: Destination, strategy: str | None = None
) -> RoutingPreview:
    """How ``stock_allocate`` would route the demand now: the same candidates and
    strategy, on stock read without locks, and nothing reserved or written. What is
    short is reported rather than refused. Stock can change before a real placement."""
    rows = list(routing_stocks(seller_id=seller_id, product_ids=[d.product_id for d in demands]))
    plan = routing_plan(rows, demands=demands, destination=destination, strategy=strategy)
    options = {s.warehouse_id: warehouse_option(s.warehouse) for s in rows}
    skus = {d.product_id: d.sku for d in demands}
    per_warehouse: dict[int, list[PreviewLine]] = {}
    for assignment in plan.assignments:
        per_warehouse.setdefault(assignment.warehouse_id, []).append(
            PreviewLine(skus[assignment.product_id], assignment.quantity)
        )
    shipments = []
    for warehouse_id, lines in per_warehouse.items():
        option = options[warehouse_id]
        km = distance_km(option, destination)
        shipments.append(
            PreviewShipment(
                warehouse=option.code,
                lines=tuple(lines),
                distance_km=None if km is None else round(km, 1),
                cost=format_cost(shipment_cost(option, destination)),
            )
        )
    return RoutingPreview(
        strategy=get_strategy(strategy).name,
        destination=destination,
        shipments=tuple(shipments),
        shortages=plan.shortages,
        reason=plan.reason,
    )
