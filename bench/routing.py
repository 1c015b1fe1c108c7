"""Routing speed and quality: the ``optimal`` strategy on plain data, no database.

    .venv/bin/python bench/routing.py [--orders 10000] [--sample 300] [--seed 7]

One seller with 50 warehouses around real US ZIP locations (handling costs 1.50 to
6.00, a few that ship to the US only), 400 products each stocked in a handful of them
with scarce quantities, and N orders of 1 to 6 lines to random real US ZIP codes. Each
order sees what ``stock_allocate`` would give the strategy: the warehouses that hold a
wanted product and what they can spare. Timing covers ``plan`` only.

Quality: on a sample of fully fillable orders within the exactness bound (at most 10
lines and 20 candidate warehouses) the same instance is solved as a MIP by CBC through
PuLP (y_w binary: warehouse used; x_pw integer ≥ 0; Σ_w x_pw = demand_p;
x_pw ≤ available_pw · y_w; minimise BIG · Σ y_w + Σ cost_w · y_w). ``cost_vs_optimal``
is our total cost over CBC's on that sample (1.000 is exact), after checking that the
shipment counts agree. ``splits_per_order`` is the mean number of extra shipments
(shipments − 1) per order. Prints ``name=value`` lines last.
"""

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pulp  # noqa: E402
import zipcodes  # noqa: E402

from inventory.routing import get_strategy  # noqa: E402
from inventory.routing.base import Demand, Destination, WarehouseOption  # noqa: E402
from inventory.routing.cost import shipment_cost  # noqa: E402

WAREHOUSES = 50
PRODUCTS = 400
MAX_LINES = 6
EXACT_LINES, EXACT_CANDIDATES = 10, 20


def us_points(rng: random.Random, count: int) -> list[tuple[str, Decimal, Decimal]]:
    rows = [r for r in zipcodes.list_all() if r["lat"] and r["state"] not in {"AK", "HI", "PR", "GU", "VI", "AS"}]
    return [(r["zip_code"], Decimal(r["lat"]), Decimal(r["long"])) for r in rng.sample(rows, count)]


def build_world(rng: random.Random):
    warehouses = [
        WarehouseOption(
            warehouse_id=i,
            code=f"WH{i:02d}",
            priority=rng.randint(1, 10),
            ships_to=frozenset({"US"}) if rng.random() < 0.2 else frozenset(),
            latitude=lat,
            longitude=lon,
            handling_cost=Decimal(rng.randint(150, 600)) / 100,
        )
        for i, (_, lat, lon) in enumerate(us_points(rng, WAREHOUSES), start=1)
    ]
    stock: dict[int, dict[int, int]] = {}  # product → warehouse → units
    for product in range(1, PRODUCTS + 1):
        holders = rng.sample(warehouses, rng.randint(3, 10))
        stock[product] = {w.warehouse_id: rng.choice((1, 3, 5, 10, 20, 50)) for w in holders}
    return warehouses, stock


def build_orders(rng: random.Random, count: int, warehouses, stock):
    by_id = {w.warehouse_id: w for w in warehouses}
    popular = list(range(1, PRODUCTS + 1))
    weights = [1 / rank for rank in popular]  # a long tail: a few best sellers
    destinations = us_points(rng, 2000)
    orders = []
    for _ in range(count):
        products = set()
        for product in rng.choices(popular, weights=weights, k=rng.randint(1, MAX_LINES)):
            products.add(product)
        demands = [Demand(p, rng.choice((1, 1, 1, 2, 3)), sku=f"SKU{p}") for p in sorted(products)]
        holders = {w for p in products for w in stock[p]}
        available = {(p, w): stock[p].get(w, 0) for p in products for w in holders}
        zip_code, lat, lon = rng.choice(destinations)
        destination = Destination("US", zip_code, lat, lon, located_by="postal_code")
        orders.append((demands, destination, [by_id[w] for w in sorted(holders)], available))
    return orders


def solve_mip(demands, destination, warehouses, available) -> tuple[int, int]:
    """(shipments, cost) of CBC's optimum."""
    eligible = [w for w in warehouses if w.ships_to_country(destination.country)]
    cost = {w.warehouse_id: shipment_cost(w, destination) for w in eligible}
    big = sum(cost.values()) + 1
    problem = pulp.LpProblem("routing", pulp.LpMinimize)
    used = {w: pulp.LpVariable(f"y_{w}", cat="Binary") for w in cost}
    units = {
        (d.product_id, w): pulp.LpVariable(f"x_{d.product_id}_{w}", lowBound=0, cat="Integer")
        for d in demands
        for w in cost
        if available.get((d.product_id, w), 0) > 0
    }
    problem += pulp.lpSum((big + cost[w]) * used[w] for w in cost)
    for d in demands:
        problem += pulp.lpSum(x for (p, _), x in units.items() if p == d.product_id) == d.quantity
    for (p, w), x in units.items():
        problem += x <= available[(p, w)] * used[w]
    problem.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=0, gapAbs=0.5))
    assert pulp.LpStatus[problem.status] == "Optimal", pulp.LpStatus[problem.status]
    chosen = [w for w, y in used.items() if y.value() > 0.5]
    return len(chosen), sum(cost[w] for w in chosen)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    warehouses, stock = build_world(rng)
    orders = build_orders(rng, args.orders, warehouses, stock)
    strategy = get_strategy("optimal")

    started = time.perf_counter()
    plans = [
        strategy.plan(demands=demands, destination=destination, warehouses=options, available=available)
        for demands, destination, options, available in orders
    ]
    elapsed = time.perf_counter() - started

    shipments = [len(plan.warehouse_ids) for plan in plans]
    short = sum(1 for plan in plans if plan.shortages)
    candidates = [len(options) for _, _, options, _ in orders]
    in_bound = [
        i
        for i, (demands, _, options, _) in enumerate(orders)
        if not plans[i].shortages and len(demands) <= EXACT_LINES and len(options) <= EXACT_CANDIDATES
    ]
    sample = rng.sample(in_bound, min(args.sample, len(in_bound)))
    ours_total = mip_total = 0
    shipment_mismatches = 0
    solver_started = time.perf_counter()
    for i in sample:
        demands, destination, options, available = orders[i]
        by_id = {w.warehouse_id: w for w in options}
        ours = (len(plans[i].warehouse_ids), sum(shipment_cost(by_id[w], destination) for w in plans[i].warehouse_ids))
        mip = solve_mip(demands, destination, options, available)
        shipment_mismatches += ours[0] != mip[0]
        ours_total += ours[1]
        mip_total += mip[1]
    solver_elapsed = time.perf_counter() - solver_started

    print(f"orders={len(orders)} warehouses={WAREHOUSES} products={PRODUCTS}")
    print(f"candidates_per_order_mean={sum(candidates) / len(candidates):.1f} max={max(candidates)}")
    print(f"orders_with_shortages={short}")
    print(f"split_orders={sum(1 for s in shipments if s > 1) / len(plans):.3f}")
    print(f"max_shipments={max(shipments)}")
    print(f"route_seconds={elapsed:.3f}")
    print(f"mip_sample={len(sample)} of {len(in_bound)} in bound, cbc_seconds={solver_elapsed:.1f}")
    print(f"shipment_count_mismatches={shipment_mismatches}")
    print(f"orders_per_s={len(orders) / elapsed:.0f}")
    print(f"splits_per_order={sum(s - 1 for s in shipments if s) / len(plans):.3f}")
    print(f"cost_vs_optimal={ours_total / mip_total:.3f}")


if __name__ == "__main__":
    main()
