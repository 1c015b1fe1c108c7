from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from inventory.routing import get_strategy
from inventory.routing.base import Demand, Destination, WarehouseOption

US = Destination(country="US")


def warehouse(wid, priority=100, ships_to=()):
    return WarehouseOption(warehouse_id=wid, code=f"W{wid}", priority=priority, ships_to=frozenset(ships_to))


def plan(demands, warehouses, available, destination=US):
    return get_strategy("priority").plan(
        demands=demands, destination=destination, warehouses=warehouses, available=available
    )


def test_one_warehouse_that_fills_everything_beats_a_split_by_priority():
    warehouses = [warehouse(1, priority=1), warehouse(2, priority=2)]
    available = {(10, 1): 5, (11, 1): 0, (10, 2): 5, (11, 2): 5}

    result = plan([Demand(10, 2), Demand(11, 1)], warehouses, available)

    assert result.warehouse_ids == {2}
    assert not result.shortages


def test_split_fills_by_priority_and_reports_what_is_short():
    warehouses = [warehouse(1, priority=2), warehouse(2, priority=1)]
    available = {(10, 1): 3, (10, 2): 4}

    result = plan([Demand(10, 9, sku="MUG")], warehouses, available)

    assert [(a.warehouse_id, a.quantity) for a in result.assignments] == [(2, 4), (1, 3)]
    assert [(s.sku, s.requested, s.available) for s in result.shortages] == [("MUG", 9, 7)]


def test_warehouse_that_does_not_ship_to_the_country_is_never_used():
    warehouses = [warehouse(1, priority=1, ships_to={"DE"}), warehouse(2, priority=5, ships_to={"US", "CA"})]
    available = {(10, 1): 100, (10, 2): 1}

    result = plan([Demand(10, 3)], warehouses, available)

    assert result.warehouse_ids == {2}
    assert result.shortages[0].available == 1


def test_ties_in_priority_are_broken_by_code():
    warehouses = [warehouse(7, priority=1), warehouse(3, priority=1)]
    available = {(10, 7): 5, (10, 3): 5}

    assert plan([Demand(10, 1)], warehouses, available).warehouse_ids == {3}


@given(
    demand=st.dictionaries(st.integers(1, 4), st.integers(1, 20), min_size=1, max_size=4),
    stock=st.dictionaries(st.tuples(st.integers(1, 4), st.integers(1, 3)), st.integers(0, 15)),
    ships=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_plan_never_promises_more_than_is_there_and_accounts_for_every_unit(demand, stock, ships):
    warehouses = [warehouse(w, priority=w, ships_to=() if ships[w - 1] else {"FR"}) for w in (1, 2, 3)]
    demands = [Demand(p, q) for p, q in demand.items()]

    result = plan(demands, warehouses, stock)

    taken = defaultdict(int)
    per_product = defaultdict(int)
    for a in result.assignments:
        assert a.quantity > 0
        assert ships[a.warehouse_id - 1], "assigned to a warehouse that does not ship to the destination"
        taken[(a.product_id, a.warehouse_id)] += a.quantity
        per_product[a.product_id] += a.quantity
    assert all(q <= stock.get(key, 0) for key, q in taken.items())
    short = {s.product_id: s for s in result.shortages}
    for product_id, quantity in demand.items():
        assert per_product[product_id] + (quantity - short[product_id].available if product_id in short else 0) == (
            quantity
        )
    single = [
        w
        for w in warehouses
        if ships[w.warehouse_id - 1] and all(stock.get((p, w.warehouse_id), 0) >= q for p, q in demand.items())
    ]
    if single:
        assert len(result.warehouse_ids) == 1


@given(
    wanted=st.dictionaries(st.tuples(st.integers(1, 3), st.integers(1, 3)), st.integers(1, 20), max_size=6),
    available=st.dictionaries(st.tuples(st.integers(1, 3), st.integers(1, 3)), st.integers(0, 20), max_size=9),
)
def test_find_shortages_lists_exactly_the_keys_that_cannot_be_filled(wanted, available):
    from inventory.routing.base import find_shortages

    shortages = find_shortages(wanted, available)

    assert [key for key, _, _ in shortages] == sorted(k for k, q in wanted.items() if q > available.get(k, 0))
    assert all(requested == wanted[key] and have == available.get(key, 0) for key, requested, have in shortages)
