"""Route by distance only: the nearest warehouse that can fill the whole order, or
else each line filled from the nearest warehouses first. Handling costs are ignored.
Ties in distance fall back to priority and then code. A destination that could not be
located is routed by priority, and the reason says so."""

from collections.abc import Sequence

from inventory.routing.base import (
    Availability,
    Demand,
    Destination,
    RoutingPlan,
    WarehouseOption,
    merge_demands,
)
from inventory.routing.cost import distance_km
from inventory.routing.priority import by_priority, route_in_order


def not_located_note(destination: Destination) -> str:
    place = " ".join(part for part in (destination.country, destination.postal_code) if part)
    return f"The destination ({place}) could not be located from its postal code or city"


class NearestStrategy:
    name = "nearest"

    def plan(
        self,
        *,
        demands: Sequence[Demand],
        destination: Destination,
        warehouses: Sequence[WarehouseOption],
        available: Availability,
    ) -> RoutingPlan:
        merged = merge_demands(demands)
        eligible = [w for w in warehouses if w.ships_to_country(destination.country)]
        if destination.is_located:
            km = {w.warehouse_id: distance_km(w, destination) for w in eligible}
            ranked = sorted(eligible, key=lambda w: (km[w.warehouse_id], w.priority, w.code, w.warehouse_id))
        else:
            ranked = by_priority(eligible)
        single, assignments, shortages = route_in_order(merged, ranked, available)
        if not eligible:
            reason = f"No active warehouse ships to {destination.country}."
        elif not destination.is_located:
            reason = f"{not_located_note(destination)}; routed by priority instead."
        elif single is not None:
            reason = (
                f"{single.code} is the nearest warehouse that can fill the whole order "
                f"({km[single.warehouse_id]:.0f} km)."
            )
        else:
            reason = "No single warehouse can fill the order; lines split across the nearest warehouses first."
        return RoutingPlan(
            assignments=tuple(assignments),
            shortages=tuple(shortages),
            reason=reason,
            considered=tuple(w.warehouse_id for w in ranked),
        )
