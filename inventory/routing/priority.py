"""Route by warehouse priority: one warehouse if any can fill the whole order (the
first by priority), otherwise split, filling each line from warehouses in priority
order. Ties in priority fall back to the warehouse code, so the result is stable."""

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
        eligible = sorted(
            (w for w in warehouses if w.ships_to_country(destination.country)),
            key=lambda w: (w.priority, w.code, w.warehouse_id),
        )
        considered = tuple(w.warehouse_id for w in eligible)

        for warehouse in eligible:
            if all(available.get((d.product_id, warehouse.warehouse_id), 0) >= d.quantity for d in merged):
                return RoutingPlan(
                    assignments=tuple(Assignment(d.product_id, warehouse.warehouse_id, d.quantity) for d in merged),
                    reason=f"{warehouse.code} can fill the whole order and comes first by priority.",
                    considered=considered,
                )

        assignments: list[Assignment] = []
        shortages: list[Shortage] = []
        for demand in merged:
            remaining = demand.quantity
            for warehouse in eligible:
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
        reason = (
            "No single warehouse can fill the order; lines split across warehouses by priority."
            if eligible
            else f"No active warehouse ships to {destination.country}."
        )
        return RoutingPlan(
            assignments=tuple(assignments), shortages=tuple(shortages), reason=reason, considered=considered
        )
