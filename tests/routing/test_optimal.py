from inventory.routing import DEFAULT_STRATEGY, STRATEGIES
from inventory.routing.base import Demand
from sellers.models import RoutingStrategyChoice
from tests.routing.helpers import BOSTON, NOT_LOCATED, route, warehouse

PROVIDENCE = (41.824, -71.4128)
HARTFORD = (41.7658, -72.6734)
RENO = (39.5296, -119.8138)


def test_the_strategy_table_and_the_seller_choices_name_the_same_strategies():
    assert set(STRATEGIES) == set(RoutingStrategyChoice.values)
    assert DEFAULT_STRATEGY == RoutingStrategyChoice.OPTIMAL == "optimal"


def test_a_single_warehouse_that_fills_everything_wins_over_two_closer_ones():
    warehouses = [warehouse(1, *PROVIDENCE), warehouse(2, *HARTFORD), warehouse(3, *RENO, handling="9")]
    available = {(10, 1): 5, (11, 2): 5, (10, 3): 5, (11, 3): 5}

    plan = route("optimal", [Demand(10, 2), Demand(11, 1)], warehouses, available)

    assert plan.warehouse_ids == {3}
    assert not plan.shortages
    assert plan.reason.startswith("W3 (cost ")
    assert "one shipment" in plan.reason
    assert set(plan.considered) == {1, 2, 3}


def test_among_single_warehouses_the_cheapest_in_handling_plus_distance_wins():
    # Hartford is 130 km further than Providence (0.65 of shipping) but 1.00 cheaper to handle.
    warehouses = [warehouse(1, *PROVIDENCE, handling="3"), warehouse(2, *HARTFORD, handling="2")]
    available = {(10, 1): 5, (10, 2): 5}

    assert route("optimal", [Demand(10, 1)], warehouses, available).warehouse_ids == {2}


def test_a_split_uses_the_fewest_warehouses_then_the_cheapest_set():
    # A two-warehouse split is needed; {1, 3} and {2, 3} both work, 2 is nearer than 1.
    warehouses = [warehouse(1, *RENO), warehouse(2, *PROVIDENCE), warehouse(3, *HARTFORD), warehouse(4, *PROVIDENCE)]
    available = {(10, 1): 4, (10, 2): 4, (11, 3): 4, (10, 4): 1, (11, 4): 1}

    plan = route("optimal", [Demand(10, 3), Demand(11, 2)], warehouses, available)

    assert plan.warehouse_ids == {2, 3}
    assert sorted((a.product_id, a.warehouse_id, a.quantity) for a in plan.assignments) == [(10, 2, 3), (11, 3, 2)]
    assert "2 shipments is the fewest possible" in plan.reason


def test_one_line_split_across_warehouses_when_no_one_has_enough():
    warehouses = [warehouse(1, *PROVIDENCE), warehouse(2, *HARTFORD), warehouse(3, *RENO)]
    available = {(10, 1): 3, (10, 2): 3, (10, 3): 6}

    plan = route("optimal", [Demand(10, 6)], warehouses, available)

    assert plan.warehouse_ids == {3}
    plan = route("optimal", [Demand(10, 7)], warehouses, available)
    assert plan.warehouse_ids == {1, 3}  # Providence is nearer than Hartford
    assert sum(a.quantity for a in plan.assignments) == 7


def test_ties_are_broken_by_priority_and_then_by_code_whatever_the_input_order():
    same = {"lat": PROVIDENCE[0], "lon": PROVIDENCE[1], "handling": "2"}
    by_code = [warehouse(7, code="B", **same), warehouse(3, code="A", **same), warehouse(5, code="C", **same)]
    available = {(10, 7): 5, (10, 3): 5, (10, 5): 5}

    for order in (by_code, by_code[::-1]):
        assert route("optimal", [Demand(10, 1)], order, available).warehouse_ids == {3}
    by_priority = [warehouse(7, code="B", priority=1, **same), warehouse(3, code="A", priority=2, **same)]
    assert route("optimal", [Demand(10, 1)], by_priority, available).warehouse_ids == {7}


def test_a_warehouse_that_does_not_ship_to_the_destination_is_never_chosen():
    warehouses = [warehouse(1, *PROVIDENCE, ships_to={"CA"}), warehouse(2, *RENO, ships_to={"US"})]
    available = {(10, 1): 100, (10, 2): 1}

    plan = route("optimal", [Demand(10, 3)], warehouses, available)

    assert plan.warehouse_ids == {2}
    assert plan.considered == (2,)
    assert [(s.requested, s.available) for s in plan.shortages] == [(3, 1)]


def test_short_stock_fills_what_it_can_from_the_fewest_warehouses_and_reports_the_rest():
    warehouses = [warehouse(1, *PROVIDENCE), warehouse(2, *RENO)]
    available = {(10, 1): 2, (11, 2): 1, (11, 1): 1}

    plan = route("optimal", [Demand(10, 5, sku="MUG"), Demand(11, 1, sku="CAP")], warehouses, available)

    assert plan.warehouse_ids == {1}
    assert [(s.sku, s.requested, s.available) for s in plan.shortages] == [("MUG", 5, 2)]
    assert plan.reason.startswith("Not every unit is in stock")


def test_nothing_ships_to_the_country():
    plan = route("optimal", [Demand(10, 1, sku="MUG")], [warehouse(1, ships_to={"DE"})], {(10, 1): 5})

    assert plan.assignments == ()
    assert [(s.sku, s.available) for s in plan.shortages] == [("MUG", 0)]
    assert plan.reason == "No active warehouse ships to US."


def test_a_destination_that_cannot_be_located_routes_by_handling_then_priority_and_says_why():
    warehouses = [
        warehouse(1, *PROVIDENCE, handling="2", priority=5),
        warehouse(2, *RENO, handling="2", priority=1),
        warehouse(3, *HARTFORD, handling="3", priority=0),
    ]
    available = {(10, 1): 5, (10, 2): 5, (10, 3): 5}

    plan = route("optimal", [Demand(10, 1)], warehouses, available, destination=NOT_LOCATED)

    assert plan.warehouse_ids == {2}
    assert "could not be located" in plan.reason
    assert route("optimal", [Demand(10, 1)], warehouses, available, destination=BOSTON).warehouse_ids == {1}


def test_nearest_picks_the_closest_warehouse_whatever_its_handling_cost():
    warehouses = [warehouse(1, *RENO), warehouse(2, *HARTFORD, handling="50"), warehouse(3, *PROVIDENCE, handling="90")]
    available = {(10, 1): 5, (10, 2): 5, (10, 3): 5}

    plan = route("nearest", [Demand(10, 2)], warehouses, available)

    assert plan.warehouse_ids == {3}
    assert plan.considered == (3, 2, 1)
    assert "nearest" in plan.reason


def test_nearest_splits_from_the_nearest_first_and_falls_back_to_priority_without_a_location():
    warehouses = [warehouse(1, *RENO, priority=1), warehouse(2, *HARTFORD, priority=2)]
    available = {(10, 1): 3, (10, 2): 3}

    plan = route("nearest", [Demand(10, 4)], warehouses, available)
    assert [(a.warehouse_id, a.quantity) for a in plan.assignments] == [(2, 3), (1, 1)]

    plan = route("nearest", [Demand(10, 4)], warehouses, available, destination=NOT_LOCATED)
    assert [(a.warehouse_id, a.quantity) for a in plan.assignments] == [(1, 3), (2, 1)]
    assert "could not be located" in plan.reason and "priority" in plan.reason
