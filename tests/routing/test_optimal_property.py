"""``optimal`` against a brute force that shares nothing with it but the cost of one
shipment: every way of giving each unit of each product to a warehouse, scored by
(shipments, cost)."""

import itertools
from collections import defaultdict
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from inventory.routing.base import Demand, Destination, WarehouseOption
from inventory.routing.cost import shipment_cost
from tests.routing.helpers import route


def compositions(total, caps):
    """Every way to split ``total`` units over warehouses with these capacities."""
    if not caps:
        if total == 0:
            yield ()
        return
    for first in range(min(total, caps[0]) + 1):
        for rest in compositions(total - first, caps[1:]):
            yield (first, *rest)


def brute_force(demands, warehouses, available, destination):
    """(shipments, cost) of the best assignment that fills everything, or None."""
    eligible = [w for w in warehouses if w.ships_to_country(destination.country)]
    per_product = []
    for demand in demands:
        caps = [available.get((demand.product_id, w.warehouse_id), 0) for w in eligible]
        per_product.append(list(compositions(demand.quantity, caps)))
    best = None
    for choice in itertools.product(*per_product):
        used = {i for split in choice for i, units in enumerate(split) if units}
        score = (len(used), sum(shipment_cost(eligible[i], destination) for i in used))
        best = score if best is None or score < best else best
    return best


warehouse_options = st.lists(
    st.builds(
        dict,
        lat=st.decimals(min_value=25, max_value=49, places=2),
        lon=st.decimals(min_value=-124, max_value=-67, places=2),
        handling=st.decimals(min_value=0, max_value=10, places=2),
        priority=st.integers(0, 3),
        ships=st.sampled_from([frozenset(), frozenset({"US"}), frozenset({"CA"})]),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=300, deadline=None)
@given(
    options=warehouse_options,
    demand=st.dictionaries(st.integers(1, 4), st.integers(1, 3), min_size=1, max_size=4),
    stock=st.lists(st.integers(0, 4), min_size=20, max_size=20),
    located=st.booleans(),
)
def test_optimal_matches_a_brute_force_optimum(options, demand, stock, located):
    warehouses = [
        WarehouseOption(
            warehouse_id=i,
            code=f"W{i}",
            priority=o["priority"],
            ships_to=o["ships"],
            latitude=o["lat"],
            longitude=o["lon"],
            handling_cost=o["handling"],
        )
        for i, o in enumerate(options, start=1)
    ]
    available = {(p, w.warehouse_id): stock[(p - 1) * 5 + w.warehouse_id - 1] for p in demand for w in warehouses}
    destination = (
        Destination("US", latitude=Decimal("42.36"), longitude=Decimal("-71.06")) if located else Destination("US")
    )
    demands = [Demand(p, q) for p, q in demand.items()]

    plan = route("optimal", demands, warehouses, available, destination=destination)
    expected = brute_force(demands, warehouses, available, destination)

    if expected is None:
        assert plan.shortages
        return
    assert not plan.shortages
    by_id = {w.warehouse_id: w for w in warehouses}
    used = plan.warehouse_ids
    assert (len(used), sum(shipment_cost(by_id[i], destination) for i in used)) == expected
    filled = defaultdict(int)
    for a in plan.assignments:
        assert 0 < a.quantity <= available[(a.product_id, a.warehouse_id)]
        assert by_id[a.warehouse_id].ships_to_country("US")
        filled[a.product_id] += a.quantity
    assert dict(filled) == demand
