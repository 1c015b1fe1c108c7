"""Routing as pure policy over plain data: which warehouses fill which lines.

A strategy gets the demand, the destination, the eligible warehouses and what each
can spare, and returns assignments plus whatever no warehouse can cover. No database,
so every strategy is tested directly (and by hypothesis) without one.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Demand:
    product_id: int
    quantity: int
    sku: str = ""


@dataclass(frozen=True, slots=True)
class Destination:
    country: str
    postal_code: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    # How the coordinates were found: "storefront", "postal_code", "city", or "" (not located)
    located_by: str = ""

    @property
    def is_located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class WarehouseOption:
    warehouse_id: int
    code: str
    priority: int
    ships_to: frozenset[str] = frozenset()
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    handling_cost: Decimal = Decimal(0)  # per shipment, in the seller's currency

    def ships_to_country(self, country: str) -> bool:
        return not self.ships_to or country in self.ships_to


@dataclass(frozen=True, slots=True)
class Assignment:
    product_id: int
    warehouse_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortage:
    product_id: int
    requested: int
    available: int
    sku: str = ""

    def as_detail(self) -> dict:
        return {"sku": self.sku, "requested": self.requested, "available": self.available}


@dataclass(frozen=True)
class RoutingPlan:
    assignments: tuple[Assignment, ...]
    shortages: tuple[Shortage, ...] = ()
    reason: str = ""
    considered: tuple[int, ...] = field(default=())

    @property
    def warehouse_ids(self) -> set[int]:
        return {a.warehouse_id for a in self.assignments}


# (product_id, warehouse_id) → units that warehouse can still promise
Availability = Mapping[tuple[int, int], int]


class RoutingStrategy(Protocol):
    name: str

    def plan(
        self,
        *,
        demands: Sequence[Demand],
        destination: Destination,
        warehouses: Sequence[WarehouseOption],
        available: Availability,
    ) -> RoutingPlan: ...


def merge_demands(demands: Sequence[Demand]) -> list[Demand]:
    """Two lines of one product are one demand on stock (first line's SKU kept)."""
    totals: dict[int, int] = defaultdict(int)
    skus: dict[int, str] = {}
    for demand in demands:
        totals[demand.product_id] += demand.quantity
        skus.setdefault(demand.product_id, demand.sku)
    return [Demand(product_id=pid, quantity=qty, sku=skus[pid]) for pid, qty in totals.items()]


def find_shortages(
    wanted: Mapping[tuple[int, int], int], available: Availability
) -> list[tuple[tuple[int, int], int, int]]:
    """Keys whose wanted units exceed what is available: (key, wanted, available)."""
    return [
        (key, quantity, available.get(key, 0))
        for key, quantity in sorted(wanted.items())
        if quantity > available.get(key, 0)
    ]
