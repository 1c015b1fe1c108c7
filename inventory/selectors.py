from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from core.exceptions import ValidationFailed
from inventory.models import KitComponent, Product, ProductKind, Stock, Warehouse
from inventory.routing import get_strategy
from inventory.routing.base import Demand, Destination, RoutingPlan, Shortage, WarehouseOption, merge_demands
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
    kits: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for kit_id, component_id, quantity in KitComponent.objects.filter(
        kit_id__in=product_ids, kit__kind=ProductKind.KIT
    ).values_list("kit_id", "component_id", "quantity"):
        kits[kit_id].append((component_id, quantity))
    component_ids = {c for parts in kits.values() for c, _ in parts}
    per_product: dict[int, list[WarehouseAvailability]] = defaultdict(list)
    rows = (
        Stock.objects.filter(
            seller_id=seller_id, product_id__in=set(product_ids) | component_ids, warehouse__is_active=True
        )
        .order_by("warehouse__priority", "warehouse__code")
        .values_list("product_id", "warehouse_id", "warehouse__code", "on_hand", "allocated")
    )
    for product_id, warehouse_id, code, on_hand, allocated in rows:
        per_product[product_id].append(WarehouseAvailability(warehouse_id, code, on_hand, allocated))
    for kit_id, parts in kits.items():
        per_product[kit_id] = _kit_availability(parts, per_product)
    return {pid: ProductAvailability(product_id=pid, warehouses=per_product.get(pid, [])) for pid in product_ids}


def _kit_availability(
    parts: list[tuple[int, int]], per_product: dict[int, list[WarehouseAvailability]]
) -> list[WarehouseAvailability]:
    """Whole kits each warehouse can make from its own components (a kit whose parts
    sit in different warehouses can still be sold, split, so this is a floor)."""
    by_warehouse: dict[int, dict[int, WarehouseAvailability]] = defaultdict(dict)
    for component_id, _ in parts:
        for row in per_product.get(component_id, []):
            by_warehouse[row.warehouse_id][component_id] = row
    kits = []
    for warehouse_id, rows in by_warehouse.items():
        if len(rows) < len(parts):
            continue
        on_hand = min(rows[c].on_hand // per for c, per in parts)
        available = min(max(rows[c].available, 0) // per for c, per in parts)
        code = next(iter(rows.values())).warehouse_code
        kits.append(WarehouseAvailability(warehouse_id, code, on_hand, on_hand - available))
    return kits


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


def warehouse_options(rows: Iterable[Stock], only: set[int] | None = None) -> dict[int, WarehouseOption]:
    """Per warehouse of ``rows`` (of those in ``only``, if given), its routing option,
    built once per warehouse rather than once per stock row."""
    options: dict[int, WarehouseOption] = {}
    for s in rows:
        if s.warehouse_id not in options and (only is None or s.warehouse_id in only):
            options[s.warehouse_id] = warehouse_option(s.warehouse)
    return options


def routing_stocks(
    *,
    seller_id: int,
    product_ids: Iterable[int],
    stocks: QuerySet[Stock] | None = None,
    warehouse_ids: Iterable[int] | None = None,
) -> QuerySet[Stock]:
    """The candidates for routing: stock rows of the wanted products in the seller's
    active warehouses (or only in ``warehouse_ids``), warehouses loaded, in pk order.
    Only warehouses that hold a wanted product can fill it. ``stocks`` narrows the base
    queryset (stock_allocate passes the locking one)."""
    base = Stock.objects.order_by("pk") if stocks is None else stocks
    rows = base.filter(seller_id=seller_id, product_id__in=set(product_ids), warehouse__is_active=True)
    if warehouse_ids is not None:
        rows = rows.filter(warehouse_id__in=set(warehouse_ids))
    return rows.select_related("warehouse")


def eligible_warehouses(rows: Sequence[Stock], destination: Destination, *, pickup: bool = False) -> set[int]:
    """Warehouses among ``rows`` that may fill an order for the destination: those that
    ship to its country, or, for a click-and-collect order, the pickup location itself."""
    if pickup:
        return {s.warehouse_id for s in rows}
    return {s.warehouse_id for s in rows if s.warehouse.ships_to_country(destination.country)}


def routing_plan(
    rows: Sequence[Stock],
    *,
    demands: Sequence[Demand],
    destination: Destination,
    strategy: str | None,
    pickup: bool = False,
) -> RoutingPlan:
    """The strategy's plan over ``rows`` (from ``routing_stocks``): what the eligible
    warehouses can spare."""
    eligible = eligible_warehouses(rows, destination, pickup=pickup)
    warehouses = list(warehouse_options(rows, eligible).values())
    available = {(s.product_id, s.warehouse_id): s.available for s in rows if s.warehouse_id in eligible}
    return get_strategy(strategy).plan(
        demands=demands, destination=destination, warehouses=warehouses, available=available
    )


def routing_candidates(
    rows: Sequence[Stock],
    *,
    demands: Sequence[Demand],
    destination: Destination,
    plan: RoutingPlan,
    pickup: bool = False,
) -> list[dict]:
    """Why the plan chose what it chose: every warehouse that holds a wanted product,
    with its distance, the cost of one shipment from it, how much of the demand it could
    fill, whether it may ship to the destination, and whether it was chosen. Stored with
    the allocation event and shown in the admin."""
    eligible = eligible_warehouses(rows, destination, pickup=pickup)
    wanted: dict[int, int] = defaultdict(int)
    for demand in demands:
        wanted[demand.product_id] += demand.quantity
    total = sum(wanted.values())
    options = warehouse_options(rows)
    covers: dict[int, int] = defaultdict(int)
    for s in rows:
        covers[s.warehouse_id] += min(max(s.available, 0), wanted.get(s.product_id, 0))
    chosen = plan.warehouse_ids
    candidates = []
    for warehouse_id, option in options.items():
        km = distance_km(option, destination)
        cost = shipment_cost(option, destination)
        candidate = {
            "warehouse": option.code,
            "eligible": warehouse_id in eligible,
            "distance_km": None if km is None else round(km, 1),
            "cost": format_cost(cost),
            "priority": option.priority,
            "covers": covers[warehouse_id],
            "of": total,
            "chosen": warehouse_id in chosen,
        }
        candidates.append(((not candidate["chosen"], not candidate["eligible"], -candidate["covers"], cost), candidate))
    candidates.sort(key=lambda pair: (pair[0], pair[1]["warehouse"]))
    return [candidate for _, candidate in candidates]


def product_components(products: Iterable[Product]) -> dict[int, tuple[tuple[int, int], ...]]:
    """What selling one unit of each product takes from stock: (product_id, units) per
    component for a kit, the product itself otherwise. One query, for kits only."""
    products = list(products)
    kits = [p.pk for p in products if p.kind == ProductKind.KIT]
    parts: dict[int, list[tuple[int, int]]] = defaultdict(list)
    if kits:
        for kit_id, component_id, quantity in KitComponent.objects.filter(kit_id__in=kits).values_list(
            "kit_id", "component_id", "quantity"
        ):
            parts[kit_id].append((component_id, quantity))
    return {p.pk: tuple(sorted(parts[p.pk])) if p.pk in parts else ((p.pk, 1),) for p in products}


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
    # A kit is routed as what ships: its components.
    components = product_components(products[sku] for sku, _ in lines)
    component_skus = dict(
        Product.objects.filter(
            pk__in={p for parts in components.values() for p, _ in parts}
            - {product.pk for product in products.values()}
        ).values_list("pk", "sku")
    ) | {product.pk: product.sku for product in products.values()}
    return merge_demands(
        [
            Demand(product_id=component_id, quantity=quantity * per_unit, sku=component_skus[component_id])
            for sku, quantity in lines
            for component_id, per_unit in components[products[sku].pk]
        ]
    )


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
    options = warehouse_options(rows)
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
