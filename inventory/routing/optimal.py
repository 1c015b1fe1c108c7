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

Candidates are the warehouses that ship to the destination and hold a wanted product,
sorted by weight (cost, priority), then code and id; each one's availability is capped
at the demand ("caps"). Weights are computed once per order (``shipment_weights``: the
destination's terms hoisted, Decimal conversions memoised).

Algorithm, exact at every step:
  * one shipment (fast path, O(n·m)): since caps are capped at the demand, a candidate
    fills the order alone exactly when its caps equal the demand; the first such one in
    sorted order is the answer (lightest, then smallest code and id);
  * redundant candidates are dropped: if an earlier candidate i holds the whole demand
    of every product that j holds, j is in no optimal plan (by the swap argument below
    i would be in it too, and then the plan minus j would still cover: not minimal);
  * k starts at a lower bound, the largest over products of how many of the biggest
    caps it takes to reach that product's demand, and grows until a k-subset is
    feasible; at each k a depth-first search picks candidates in sorted order;
  * per product, a bitmask of the candidates holding at least c units, for each
    distinct cap c, so "which candidates alone hold all of what is still needed" is one
    bisect and one AND per product;
  * the last slot takes the first candidate after the last pick that alone holds the
    rest: the lightest completion, and at equal weight the smallest code and id, which
    also gives the smallest sorted code tuple (replacing one member by a smaller one
    makes the sorted tuple smaller), so no other candidate is tried there;
  * bound: the partial weight plus the weights of the next cheapest candidates that
    would complete the subset; candidates are sorted, so once that exceeds the best
    found, no later candidate at this depth can do better (break);
  * usefulness: only candidates holding something still needed are tried (bitmask);
  * dominance (swap argument): a candidate j is skipped if an earlier candidate i that
    is not picked gives at least as much of what is still needed
    (min(cap_i, rest) ≥ min(cap_j, rest) for every product): swapping j for i in any
    completion keeps it feasible and makes it lighter, or equal and smaller by code;
  * feasibility: what is still needed must fit in the suffix sums of the remaining
    candidates, and in (slots left) × (largest remaining cap), per product.

Complexity: O(n·m) for the costs, the caps and the one-shipment case (n candidates, m
products); above that a subset search bounded by Σ_{i≤k*} C(n', i) nodes (n' candidates
left after dropping the redundant ones, k* the fewest shipments) of O(m) word-sized
bitmask operations each, the last level costing O(m) instead of O(n·m). With n = 20
that is at most 2^20 in theory, but the pruning keeps real orders to a few dozen nodes:
on ``bench/routing.py`` (1–6 lines, up to ~40 candidates) the mean is well under a
millisecond per order. The result is exact for any size; the issue's bound (10 lines, 20
candidates) is where it is tested against a brute force and a MIP solver.

When no subset can fill everything, each product's demand is first cut to what all
candidates together hold, the same search fills that with the fewest shipments, and
the rest is reported as shortages.
"""

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

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
from inventory.routing.cost import cost_from_weight, distance_km, format_cost, shipment_weights
from inventory.routing.nearest import not_located_note


@dataclass(frozen=True, slots=True)
class _Candidate:
    weight: int
    code: str
    warehouse_id: int
    caps: tuple[int, ...]  # per product, min(available, demand)


def cheapest_cover(need: tuple[int, ...], candidates: Sequence[_Candidate]) -> tuple[_Candidate, ...] | None:
    """The feasible subset with the fewest members and then the least weight (ties by
    codes and ids); ``candidates`` sorted by (weight, code, id), caps capped at ``need``.
    None if none is feasible."""
    if not any(need):
        return ()
    # One shipment: caps are capped at the need, so a candidate alone covers it exactly
    # when its caps equal the need; the first such in (weight, code, id) order wins.
    for candidate in candidates:
        if candidate.caps == need:
            return (candidate,)
    products = [p for p, q in enumerate(need) if q]
    # Redundant candidates: if an earlier candidate i holds the whole need of every
    # product that j holds, j is in no optimal plan (i would be in it too, by the swap
    # argument in the module docstring, and then dropping j would leave a smaller cover).
    whole = [0] * len(need)  # per product, the candidates so far holding all of its need
    kept = []
    for i, candidate in enumerate(candidates):
        covered = -1
        for p in products:
            c = candidate.caps[p]
            if c:
                covered &= whole[p]
                if c == need[p]:
                    whole[p] |= 1 << i
        if not covered:
            kept.append(candidate)
    candidates = kept
    n = len(candidates)
    caps = [c.caps for c in candidates]
    columns = list(zip(*caps, strict=True)) if caps else [() for _ in need]
    fewest = 2
    for p in products:
        column = columns[p]
        if sum(column) < need[p]:
            return None
        total = t = 0
        for c in sorted(column, reverse=True):  # the fewest candidates that reach the need
            total += c
            t += 1
            if total >= need[p]:
                break
        fewest = max(fewest, t)

    # Per product p: its distinct positive capacities ascending and, for each, the bitmask
    # of candidates holding at least that many. "Who alone covers r units of p" is a
    # bisect; "who alone covers all of rest" is an AND of one mask per wanted product.
    levels: list[list[int]] = [[] for _ in need]
    at_least: list[list[int]] = [[] for _ in need]
    holds = [0] * len(need)
    for p in products:
        by_cap: dict[int, int] = {}
        for j, c in enumerate(columns[p]):
            if c:
                by_cap[c] = by_cap.get(c, 0) | 1 << j
        values = sorted(by_cap)
        masks = [0] * len(values)
        acc = 0
        for t in range(len(values) - 1, -1, -1):
            acc |= by_cap[values[t]]
            masks[t] = acc
        levels[p], at_least[p], holds[p] = values, masks, acc
    weights = [c.weight for c in candidates]
    prefix = [0, *accumulate(weights)]
    order = [(c.code, c.warehouse_id) for c in candidates]
    suffix_sum: list[list[int]] = []
    suffix_max: list[list[int]] = []

    best_weight = -1  # -1: nothing found yet
    best_key: tuple = ()
    best_set: tuple[int, ...] = ()

    def alone(rest: tuple[int, ...]) -> int:
        """Bitmask of the candidates that alone hold all of ``rest``."""
        mask = -1
        for p in products:
            r = rest[p]
            if r:
                t = bisect_left(levels[p], r)
                if t == len(levels[p]):
                    return 0
                mask &= at_least[p][t]
        return mask

    def finish(start: int, rest: tuple[int, ...], weight: int, picked: tuple[int, ...]) -> None:
        # The last slot: the first candidate from ``start`` on that alone covers ``rest``
        # is the best completion (the lightest, and among equal weights the smallest
        # code and id, which also gives the smallest sorted tuple of codes).
        nonlocal best_weight, best_key, best_set
        mask = alone(rest) & (-1 << start)
        if not mask:
            return
        j = (mask & -mask).bit_length() - 1
        total = weight + weights[j]
        if best_weight >= 0 and total > best_weight:
            return
        chosen = (*picked, j)
        key = tuple(sorted(order[i] for i in chosen))
        if best_weight < 0 or total < best_weight or key < best_key:
            best_weight, best_key, best_set = total, key, chosen

    def search(start: int, left: int, rest: tuple[int, ...], weight: int, picked: tuple[int, ...], mask: int) -> None:
        useful = 0
        for p in products:
            if rest[p]:
                useful |= holds[p]
        useful &= -1 << start
        last = n - left
        slots = left - 1
        while useful:
            low = useful & -useful
            useful ^= low
            j = low.bit_length() - 1
            if j > last or (best_weight >= 0 and weight + prefix[j + left] - prefix[j] > best_weight):
                break
            cap = caps[j]
            rest_j = tuple([r - c if r > c else 0 for r, c in zip(rest, cap, strict=True)])
            if slots == 1:
                finish(j + 1, rest_j, weight + weights[j], (*picked, j))
                continue
            # Dominance: an earlier candidate i not picked that gives at least as much of
            # what is still needed (min(cap_i, rest) ≥ min(cap_j, rest) everywhere) could
            # replace j in any completion, lighter or equal with a smaller code: skip j.
            dominators = low - 1 & ~mask
            for p in products:
                if not dominators:
                    break
                r = rest[p]
                if r:
                    dominators &= at_least[p][bisect_left(levels[p], min(cap[p], r))] if cap[p] else -1
            if dominators:
                continue
            after_sum, after_max = suffix_sum[j + 1], suffix_max[j + 1]
            if any(r and (r > after_sum[p] or r > slots * after_max[p]) for p, r in enumerate(rest_j)):
                continue
            search(j + 1, slots, rest_j, weight + weights[j], (*picked, j), mask | low)

    for k in range(fewest, n + 1):
        if k >= 3 and not suffix_sum:
            suffix_sum.append([0] * len(need))
            suffix_max.append([0] * len(need))
            for cap in reversed(caps):
                suffix_sum.append([a + b for a, b in zip(suffix_sum[-1], cap, strict=True)])
                suffix_max.append([a if a > b else b for a, b in zip(suffix_max[-1], cap, strict=True)])
            suffix_sum.reverse()
            suffix_max.reverse()
        search(0, k, need, 0, (), 0)
        if best_weight >= 0:
            return tuple(candidates[i] for i in best_set)
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
        country = destination.country
        eligible = [w for w in warehouses if w.ships_to_country(country)]
        if not eligible:
            return RoutingPlan(
                assignments=(),
                shortages=tuple(Shortage(d.product_id, d.quantity, 0, d.sku) for d in merged),
                reason=f"No active warehouse ships to {destination.country}.",
            )
        weights = shipment_weights(eligible, destination)
        ranked = sorted(zip(weights, [w.code for w in eligible], [w.warehouse_id for w in eligible], strict=True))
        product_ids = [d.product_id for d in merged]
        get = available.get
        stock = [tuple([get((pid, wid), 0) for pid in product_ids]) for _, _, wid in ranked]
        held = [sum(column) for column in zip(*stock, strict=True)]
        need = tuple([d.quantity if d.quantity < h else h for d, h in zip(merged, held, strict=True)])
        candidates = []
        for (weight, code, wid), row in zip(ranked, stock, strict=True):
            if any(row):
                caps = tuple([a if a < q else q for a, q in zip(row, need, strict=True)])
                if any(caps):
                    candidates.append(_Candidate(weight, code, wid, caps))
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
            considered=tuple(wid for _, _, wid in ranked),
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
