"""The default strategy: fewest shipments first, then least total cost, exactly.

Objective, compared lexicographically:
  1. the number of shipments (distinct warehouses used);
  2. the total cost Σ over used warehouses of handling cost + distance cost (see
     ``cost.py``; without a located destination, handling cost only);
  3. the total priority of the used warehouses (folded into the weight below the cost);
  4. the sorted warehouse codes, then ids, so the plan is deterministic.

Cost is paid per shipment, not per unit, so once a set of warehouses is chosen how the
units are split among them changes nothing. The problem is therefore a choice of a
subset S of warehouses: S is *feasible* when, for every product p,
Σ_{w in S} available(p, w) ≥ demand(p); a feasible S is filled greedily. In a feasible
subset of the smallest size every warehouse is used by any fill (otherwise a smaller
subset would be feasible), so |S| is the number of shipments.

Algorithm: for k = 1, 2, … enumerate the k-subsets by depth-first search over the
candidates sorted by weight (cost, priority, code) and stop at the first k with a
feasible subset, keeping the lightest one of that size. Pruning:
  * bound: the partial weight plus the weights of the next cheapest candidates that
    would complete the subset; candidates are sorted, so once that exceeds the best
    found, no later candidate at this depth can do better (break);
  * usefulness: a candidate that covers none of what is still needed is skipped (a
    subset containing it would have a feasible proper subset, already ruled out at a
    smaller k);
  * feasibility: what is still needed must fit in the suffix sums of the remaining
    candidates, and in (slots left) × (largest remaining availability), per product.
Only candidates that ship to the destination and hold a wanted product are considered,
and availabilities are capped at the demand.

Complexity: a subset-sum bound of Σ_{i≤k*} C(n, i) nodes of O(m) work each (n
candidates, m products, k* the fewest shipments); with n = 20 that is at most 2^20 but
the pruning keeps real orders to a few dozen nodes (k* is 1 for most orders and the
bound cuts the rest). The result is exact for any size; the issue's bound (10 lines, 20
candidates) is where it is tested against a brute force and a MIP solver.

When no subset can fill everything, each product's demand is first cut to what all
candidates together hold, the same search fills that with the fewest shipments, and
the rest is reported as shortages.
"""

from collections.abc import Sequence
from dataclasses import dataclass

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
from inventory.routing.cost import cost_from_weight, distance_km, format_cost, shipment_weight
from inventory.routing.nearest import not_located_note


@dataclass(frozen=True, slots=True)
class _Candidate:
    weight: int
    code: str
    warehouse_id: int
    caps: tuple[int, ...]  # per product, min(available, demand)


def cheapest_cover(need: tuple[int, ...], candidates: Sequence[_Candidate]) -> tuple[_Candidate, ...] | None:
    """The feasible subset with the fewest members and then the least weight (ties by
    codes and ids); ``candidates`` sorted by (weight, code, id). None if none is feasible."""
    n, m = len(candidates), len(need)
    if not any(need):
        return ()
    weights = [c.weight for c in candidates]
    caps = [c.caps for c in candidates]
    prefix = [0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    suffix_sum = [[0] * m for _ in range(n + 1)]
    suffix_max = [[0] * m for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for p in range(m):
            suffix_sum[i][p] = suffix_sum[i + 1][p] + caps[i][p]
            suffix_max[i][p] = max(suffix_max[i + 1][p], caps[i][p])
    if any(need[p] > suffix_sum[0][p] for p in range(m)):
        return None

    best: list = [None, None]  # [key, picked indices]

    def search(start: int, left: int, remaining: tuple[int, ...], weight: int, picked: tuple[int, ...]) -> None:
        for j in range(start, n - left + 1):
            bound = weight + prefix[j + left] - prefix[j]
            if best[0] is not None and bound > best[0][0]:
                break
            cap = caps[j]
            if not any(c and r for c, r in zip(cap, remaining, strict=True)):
                continue
            rest = tuple(r - c if r > c else 0 for r, c in zip(remaining, cap, strict=True))
            chosen = (*picked, j)
            if left == 1:
                if not any(rest):
                    key = (
                        weight + weights[j],
                        tuple(sorted((candidates[i].code, candidates[i].warehouse_id) for i in chosen)),
                    )
                    if best[0] is None or key < best[0]:
                        best[0], best[1] = key, chosen
                continue
            slots = left - 1
            after_sum, after_max = suffix_sum[j + 1], suffix_max[j + 1]
            if any(r and (r > after_sum[p] or r > slots * after_max[p]) for p, r in enumerate(rest)):
                continue
            search(j + 1, slots, rest, weight + weights[j], chosen)

    for k in range(1, n + 1):
        search(0, k, need, 0, ())
        if best[1] is not None:
            return tuple(candidates[i] for i in best[1])
    return None


class OptimalStrategy:
    name = "optimal"

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
        if not eligible:
            return RoutingPlan(
                assignments=(),
                shortages=tuple(Shortage(d.product_id, d.quantity, 0, d.sku) for d in merged),
                reason=f"No active warehouse ships to {destination.country}.",
            )
        weight = {w.warehouse_id: shipment_weight(w, destination) for w in eligible}
        ranked = sorted(eligible, key=lambda w: (weight[w.warehouse_id], w.code, w.warehouse_id))
        held = [sum(available.get((d.product_id, w.warehouse_id), 0) for w in ranked) for d in merged]
        need = tuple(min(d.quantity, h) for d, h in zip(merged, held, strict=True))
        candidates = []
        for w in ranked:
            caps = tuple(
                min(available.get((d.product_id, w.warehouse_id), 0), n) for d, n in zip(merged, need, strict=True)
            )
            if any(caps):
                candidates.append(_Candidate(weight[w.warehouse_id], w.code, w.warehouse_id, caps))
        chosen = cheapest_cover(need, candidates) or ()

        assignments = []
        for p, demand in enumerate(merged):
            remaining = need[p]
            for candidate in chosen:
                take = min(remaining, candidate.caps[p])
                if take:
                    assignments.append(Assignment(demand.product_id, candidate.warehouse_id, take))
                    remaining -= take
        shortages = [
            Shortage(product_id=d.product_id, requested=d.quantity, available=n, sku=d.sku)
            for d, n in zip(merged, need, strict=True)
            if n < d.quantity
        ]
        by_id = {w.warehouse_id: w for w in eligible}
        return RoutingPlan(
            assignments=tuple(assignments),
            shortages=tuple(shortages),
            reason=_reason(chosen, by_id, destination, shortages=bool(shortages)),
            considered=tuple(w.warehouse_id for w in ranked),
        )


def _describe(candidate: _Candidate, warehouse: WarehouseOption, destination: Destination) -> str:
    km = distance_km(warehouse, destination)
    where = "" if km is None else f", {km:.0f} km"
    return f"{candidate.code} (cost {format_cost(cost_from_weight(candidate.weight))}{where})"


def _reason(
    chosen: Sequence[_Candidate], by_id: dict[int, WarehouseOption], destination: Destination, *, shortages: bool
) -> str:
    parts = [_describe(c, by_id[c.warehouse_id], destination) for c in chosen]
    total = format_cost(cost_from_weight(sum(c.weight for c in chosen)))
    if not chosen:
        reason = "No eligible warehouse holds any of the wanted stock."
    elif shortages:
        reason = (
            f"Not every unit is in stock; what is can ship in {len(chosen)} shipment(s), the fewest possible: "
            f"{', '.join(parts)}; total {total}."
        )
    elif len(chosen) == 1:
        reason = f"{parts[0]} fills the whole order in one shipment at the lowest cost."
    else:
        reason = (
            f"No single warehouse can fill the order; {len(chosen)} shipments is the fewest possible, "
            f"and the cheapest such set is {', '.join(parts)}; total {total}."
        )
    if chosen and not destination.is_located:
        reason += f" {not_located_note(destination)}, so cost is handling only and ties go by priority."
    return reason
