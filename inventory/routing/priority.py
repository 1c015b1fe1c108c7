"""Route by warehouse priority: one warehouse if any can fill the whole order (the
first by priority), otherwise split, filling each line from warehouses in priority
order. Ties in priority fall back to the warehouse code, so the result is stable.

``route_in_order`` is that fill for any ranking; ``nearest`` ranks by distance."""

from collections.abc import Sequence

from inventory.routing.base import (
    Assignment,
    Availability,
    Demand,
    Destination,
    RoutingPlan,
    Shortage,
    WarehouseOption,
    merge_demands,
)


def route_in_order(
    merged: Sequence[Demand], ranked: Sequence[WarehouseOption], available: Availability
) -> tuple[WarehouseOption | None, list[Assignment], list[Shortage]]:
    """The first warehouse in ``ranked`` that fills everything, or else a line-by-line
    split down the ranking; returns (the single warehouse or None, assignments, shortages)."""
    for warehouse in ranked:
        if all(available.get((d.product_id, warehouse.warehouse_id), 0) >= d.quantity for d in merged):
            return warehouse, [Assignment(d.product_id, warehouse.warehouse_id, d.quantity) for d in merged], []
    assignments: list[Assignment] = []
    shortages: list[Shortage] = []
    for demand in merged:
        remaining = demand.quantity
        for warehouse in ranked:
            if remaining == 0:
                break
            take = min(remaining, available.get((demand.product_id, warehouse.warehouse_id), 0))
            if take > 0:
                assignments.append(Assignment(demand.product_id, warehouse.warehouse_id, take))
                remaining -= take
        if remaining:
            shortages.append(
                Shortage(
                    product_id=demand.product_id,
                    requested=demand.quantity,
                    available=demand.quantity - remaining,
                    sku=demand.sku,
                )
            )
    return None, assignments, shortages


def by_priority(warehouses: Sequence[WarehouseOption]) -> list[WarehouseOption]:
    return sorted(warehouses, key=lambda w: (w.priority, w.code, w.warehouse_id))


class PriorityStrategy:
    name = "priority"

    def plan(
        self,
        *,
        demands: Sequence[Demand],
        destination: Destination,
        warehouses: Sequence[WarehouseOption],
        available: Availability,
    ) -> RoutingPlan:
        merged = merge_demands(demands)
        eligible = by_priority(w for w in warehouses if w.ships_to_country(destination.country))
        considered = tuple(w.warehouse_id for w in eligible)
        single, assignments, shortages = route_in_order(merged, eligible, available)
        if single is not None:
            reason = f"{single.code} can fill the whole order and comes first by priority."
        elif eligible:
            reason = "No single warehouse can fill the order; lines split across warehouses by priority."
        else:
            reason = f"No active warehouse ships to {destination.country}."
        return RoutingPlan(
            assignments=tuple(assignments), shortages=tuple(shortages), reason=reason, considered=considered
        )
