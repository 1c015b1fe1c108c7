from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F, QuerySet, Sum

from inventory.models import Product, Stock


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


def available_to_promise(*, product_id: int, warehouse_id: int | None = None) -> int:
    stocks = Stock.objects.filter(product_id=product_id, warehouse__is_active=True)
    if warehouse_id is not None:
        stocks = stocks.filter(warehouse_id=warehouse_id)
    return stocks.aggregate(total=Sum(F("on_hand") - F("allocated")))["total"] or 0


def ledger_balance(*, stock_id: int) -> int:
    return Stock.objects.get(pk=stock_id).ledger.aggregate(total=Sum("quantity"))["total"] or 0
