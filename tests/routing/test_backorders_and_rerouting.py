"""Backorders, preorders, kits, click and collect, re-routing and staff overrides:
what happens to an order's units after it is placed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db.models import Sum
from django.utils import timezone

from core.actor import Actor
from inventory.exceptions import InsufficientStock
from inventory.models import BackorderPolicy, KitComponent, LedgerKind, ProductKind, Stock
from inventory.services import stock_adjust, stock_count, stock_receive, warehouse_set_active
from orders.exceptions import InvalidOrder, OrderNotEditable
from orders.models import Allocation, EventType, Order, OrderLine
from orders.services import order_cancel, order_transition
from orders.services.allocation import order_allocation_override, order_ready_for_pickup
from orders.services.changes import order_line_cancel
from orders.status import FulfillmentStatus, Lifecycle
from tests.factories import ProductFactory, WarehouseFactory, place, stocked
from tests.routing.outbox import dispatch

pytestmark = pytest.mark.django_db
STAFF = Actor.system("staff")


@pytest.fixture
def east(seller):  # Newark
    return WarehouseFactory(seller=seller, code="EAST", latitude="40.7357", longitude="-74.1724", priority=1)


@pytest.fixture
def west(seller):  # Los Angeles
    return WarehouseFactory(
        seller=seller, code="WEST", city="Los Angeles", latitude="34.0522", longitude="-118.2437", priority=2
    )


@pytest.fixture
def lamp(seller):
    return ProductFactory(seller=seller, sku="LAMP", backorder_policy=BackorderPolicy.ALLOW)


def waiting(order) -> list[int]:
    return list(
        OrderLine.objects.filter(order=order).order_by("position").values_list("quantity_backordered", flat=True)
    )


def held(order) -> dict[str, int]:
    rows = Allocation.objects.filter(line__order=order).values("stock__warehouse__code").annotate(units=Sum("quantity"))
    return {row["stock__warehouse__code"]: row["units"] for row in rows}


def stock_row(product, warehouse) -> Stock:
    return Stock.objects.get(product=product, warehouse=warehouse)


# Backorders --------------------------------------------------------------------------


def test_a_backorderable_line_takes_what_there_is_and_waits_for_the_rest(seller, lamp, east):
    stocked(lamp, east, 2)

    order = place(seller, [("LAMP", 5)])

    assert order.lifecycle == Lifecycle.CONFIRMED
    assert order.fulfillment_status == FulfillmentStatus.BACKORDERED
    assert waiting(order) == [3]
    assert held(order) == {"EAST": 2}
    event = order.events.get(type=EventType.BACKORDERED)
    assert event.data["lines"] == [{"sku": "LAMP", "quantity": 3, "preorder": False}]


def test_a_product_that_may_not_be_backordered_is_still_refused(seller, east):
    ProductFactory(seller=seller, sku="MUG")
    with pytest.raises(InsufficientStock):
        place(seller, [("MUG", 1)])
    assert not Order.objects.exists()


def test_backorders_are_filled_oldest_order_first_when_stock_arrives(seller, lamp, east):
    now = timezone.now()
    newer = place(seller, [("LAMP", 2)], placed_at=now - timedelta(hours=1))
    oldest = place(seller, [("LAMP", 3)], placed_at=now - timedelta(hours=3))
    middle = place(seller, [("LAMP", 4)], placed_at=now - timedelta(hours=2))
    assert [waiting(o) for o in (oldest, middle, newer)] == [[3], [4], [2]]

    stock_receive(product=lamp, warehouse=east, quantity=5, actor=STAFF)
    dispatch("stock.available")

    assert [waiting(o) for o in (oldest, middle, newer)] == [[0], [2], [2]]
    oldest.refresh_from_db()
    assert oldest.fulfillment_status == FulfillmentStatus.ALLOCATED
    filled = oldest.events.get(type=EventType.BACKORDER_ALLOCATED)
    assert filled.data["lines"][0]["quantity"] == 3 and filled.data["candidates"][0]["warehouse"] == "EAST"

    # A returned unit counts as arriving stock too.
    stock_receive(product=lamp, warehouse=east, quantity=3, actor=STAFF, kind=LedgerKind.RETURN_RESTOCK)
    dispatch("stock.available")
    assert [waiting(o) for o in (oldest, middle, newer)] == [[0], [0], [1]]
    assert stock_row(lamp, east).allocated == 8 == stock_row(lamp, east).on_hand


def test_stock_freed_by_a_cancellation_goes_to_a_waiting_order(seller, lamp, east):
    first = place(seller, [("LAMP", 2)])
    stocked(lamp, east, 2)
    dispatch("stock.available")
    assert waiting(first) == [0]
    second = place(seller, [("LAMP", 2)])
    assert waiting(second) == [2]

    order_cancel(seller_id=seller.pk, order_id=first.pk, actor=STAFF)
    dispatch("stock.available")

    assert waiting(second) == [0] and held(second) == {"EAST": 2}


def test_cancelling_a_backordered_line_cancels_the_waiting_units_first(seller, lamp, east):
    stocked(lamp, east, 2)
    order = place(seller, [("LAMP", 5)])
    line = order.lines.get()

    order_line_cancel(seller_id=seller.pk, order_id=order.pk, line_id=line.pk, quantity=3, actor=STAFF)

    assert waiting(order) == [0] and held(order) == {"EAST": 2}
    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.ALLOCATED


def test_cancelled_and_held_orders_do_not_take_arriving_stock_but_held_ones_wait(seller, lamp, east):
    cancelled = place(seller, [("LAMP", 1)])
    order_cancel(seller_id=seller.pk, order_id=cancelled.pk, actor=STAFF)
    live = place(seller, [("LAMP", 1)])

    stocked(lamp, east, 1)
    dispatch("stock.available")

    assert waiting(cancelled) == [0] and held(cancelled) == {}
    assert held(live) == {"EAST": 1}


# Preorders -----------------------------------------------------------------------------


@pytest.fixture
def console(seller):
    return ProductFactory(
        seller=seller,
        sku="CONSOLE",
        backorder_policy=BackorderPolicy.PREORDER,
        preorder_cap=5,
        release_date=timezone.localdate() + timedelta(days=30),
    )


def test_preorders_are_marked_wait_even_when_stock_exists_and_stop_at_the_cap(seller, console, east):
    stocked(console, east, 10)

    first = place(seller, [("CONSOLE", 3)])
    second = place(seller, [("CONSOLE", 2)])
    with pytest.raises(InvalidOrder) as refused:
        place(seller, [("CONSOLE", 1)])

    assert refused.value.details == {"lines.0.quantity": ["Only 0 left to preorder."]}
    line = first.lines.get()
    assert line.is_preorder and line.quantity_backordered == 3 and held(first) == {}
    assert first.events.get(type=EventType.BACKORDERED).data["lines"][0]["preorder"] is True
    # A cancelled preorder gives its units back to the cap.
    order_cancel(seller_id=seller.pk, order_id=second.pk, actor=STAFF)
    assert place(seller, [("CONSOLE", 2)]).lines.get().is_preorder


def test_preorders_are_allocated_first_come_first_served_when_stock_arrives(seller, console, east):
    first = place(seller, [("CONSOLE", 2)])
    second = place(seller, [("CONSOLE", 2)])

    stock_receive(product=console, warehouse=east, quantity=3, actor=STAFF)
    dispatch("stock.available")

    assert (waiting(first), waiting(second)) == ([0], [1])


def test_after_the_release_date_the_product_sells_from_stock(seller, console, east):
    console.release_date = timezone.localdate()
    console.save()
    stocked(console, east, 1)

    order = place(seller, [("CONSOLE", 1)])

    assert not order.lines.get().is_preorder and held(order) == {"EAST": 1}
    with pytest.raises(InsufficientStock):
        place(seller, [("CONSOLE", 1)])


# Kits ----------------------------------------------------------------------------------


@pytest.fixture
def gift_box(seller):
    """A kit: two candles and one holder."""
    candle = ProductFactory(seller=seller, sku="CANDLE")
    holder = ProductFactory(seller=seller, sku="HOLDER")
    kit = ProductFactory(seller=seller, sku="GIFTBOX", kind=ProductKind.KIT)
    KitComponent.objects.create(kit=kit, component=candle, quantity=2)
    KitComponent.objects.create(kit=kit, component=holder, quantity=1)
    return kit, candle, holder


def test_a_kit_sells_from_its_components_stock(seller, gift_box, east):
    kit, candle, holder = gift_box
    stocked(candle, east, 10)
    stocked(holder, east, 10)

    order = place(seller, [("GIFTBOX", 3)])

    assert (stock_row(candle, east).allocated, stock_row(holder, east).allocated) == (6, 3)
    line = order.lines.get()
    assert {(a.stock.product.sku, a.quantity) for a in line.allocations.all()} == {("CANDLE", 6), ("HOLDER", 3)}
    assert not Stock.objects.filter(product=kit).exists()

    order_line_cancel(seller_id=seller.pk, order_id=order.pk, line_id=line.pk, quantity=1, actor=STAFF)
    assert (stock_row(candle, east).allocated, stock_row(holder, east).allocated) == (4, 2)


def test_two_lines_sharing_a_component_can_never_oversell_it(seller, gift_box, east):
    kit, candle, holder = gift_box
    stocked(candle, east, 4)
    stocked(holder, east, 5)

    # 2 kits need 4 candles; one more candle on its own line makes 5 of 4.
    with pytest.raises(InsufficientStock) as refused:
        place(seller, [("GIFTBOX", 2), ("CANDLE", 1)])

    assert refused.value.details["shortages"] == [{"sku": "CANDLE", "requested": 5, "available": 4}]
    assert stock_row(candle, east).allocated == 0
    place(seller, [("GIFTBOX", 1), ("CANDLE", 2)])
    assert stock_row(candle, east).allocated == 4


def test_a_backorderable_kit_waits_in_whole_kits(seller, gift_box, east):
    kit, candle, holder = gift_box
    kit.backorder_policy = BackorderPolicy.ALLOW
    kit.save()
    stocked(candle, east, 5)  # enough for two kits
    stocked(holder, east, 1)  # enough for one

    order = place(seller, [("GIFTBOX", 3)])

    assert waiting(order) == [2]
    assert (stock_row(candle, east).allocated, stock_row(holder, east).allocated) == (2, 1)
    stock_receive(product=holder, warehouse=east, quantity=5, actor=STAFF)
    dispatch("stock.available")
    assert waiting(order) == [1]  # candles 3 and 4 make the second kit; the third still needs a sixth candle
    assert (stock_row(candle, east).allocated, stock_row(holder, east).allocated) == (4, 2)


# Click and collect ---------------------------------------------------------------------


@pytest.fixture
def store(seller):
    return WarehouseFactory(
        seller=seller, code="STORE", city="Boston", latitude="42.36", longitude="-71.06", is_pickup_location=True
    )


def test_a_pickup_order_routes_to_its_location_only(seller, lamp, east, store):
    stocked(lamp, east, 10)
    stocked(lamp, store, 1)

    order = place(seller, [("LAMP", 3)], delivery_method="pickup", pickup_location="STORE")

    assert order.pickup_warehouse == store
    assert held(order) == {"STORE": 1} and waiting(order) == [2]


def test_a_pickup_location_must_be_one(seller, lamp, east, store):
    stocked(lamp, east, 10)
    with pytest.raises(InvalidOrder) as refused:
        place(seller, [("LAMP", 1)], delivery_method="pickup", pickup_location="EAST")
    assert "pickup_location" in refused.value.details
    with pytest.raises(InvalidOrder):
        place(seller, [("LAMP", 1)], delivery_method="pickup")
    with pytest.raises(InvalidOrder):
        place(seller, [("LAMP", 1)], pickup_location="STORE")
    assert not Order.objects.exists()


def test_ready_for_pickup_is_recorded_announced_and_emailed(seller, lamp, store, django_capture_on_commit_callbacks):
    stocked(lamp, store, 2)
    order = place(seller, [("LAMP", 2)], delivery_method="pickup", pickup_location="STORE")

    order_ready_for_pickup(seller_id=seller.pk, order_id=order.pk, actor=STAFF)
    with django_capture_on_commit_callbacks(execute=False):
        dispatch("order.ready_for_pickup")

    order.refresh_from_db()
    assert order.ready_for_pickup_at is not None
    assert order.events.get(type=EventType.READY_FOR_PICKUP).data == {"location": "STORE"}
    (email,) = mail.outbox[-1:]
    assert "ready for pickup" in email.subject and store.name in email.body
    with pytest.raises(OrderNotEditable):
        order_ready_for_pickup(seller_id=seller.pk, order_id=order.pk, actor=STAFF)


def test_a_shipped_order_or_one_still_waiting_is_not_ready_for_pickup(seller, lamp, east, store):
    stocked(lamp, east, 1)
    shipped = place(seller, [("LAMP", 1)])
    waiting_order = place(seller, [("LAMP", 1)], delivery_method="pickup", pickup_location="STORE")
    for order in (shipped, waiting_order):
        with pytest.raises(OrderNotEditable):
            order_ready_for_pickup(seller_id=seller.pk, order_id=order.pk, actor=STAFF)


# Re-routing ----------------------------------------------------------------------------


def test_closing_a_warehouse_moves_its_open_allocations_elsewhere(seller, lamp, east, west):
    stocked(lamp, east, 5)
    stocked(lamp, west, 5)
    moved = place(seller, [("LAMP", 3)])
    picking = place(seller, [("LAMP", 1)])
    order_transition(seller_id=seller.pk, order_id=picking.pk, to=Lifecycle.IN_FULFILLMENT, actor=STAFF)
    assert held(moved) == {"EAST": 3}

    warehouse_set_active(warehouse=east, active=False, actor=STAFF)
    dispatch("warehouse.deactivated")

    assert held(moved) == {"WEST": 3} and waiting(moved) == [0]
    assert held(picking) == {"EAST": 1}  # being picked: the warehouse's business now
    assert (stock_row(lamp, east).allocated, stock_row(lamp, west).allocated) == (1, 3)
    event = moved.events.get(type=EventType.REROUTED)
    assert event.data["why"] == "Warehouse EAST was closed."
    assert event.data["moved"][0]["from"] == [{"warehouse": "EAST", "product_id": lamp.pk, "quantity": 3}]


def test_what_no_other_warehouse_holds_waits_after_a_closure(seller, lamp, east, west):
    stocked(lamp, east, 5)
    stocked(lamp, west, 1)
    order = place(seller, [("LAMP", 3)])

    warehouse_set_active(warehouse=east, active=False, actor=STAFF)
    dispatch("warehouse.deactivated")

    assert held(order) == {"WEST": 1} and waiting(order) == [2]
    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.BACKORDERED
    # Opening it again brings its stock back to the waiting order.
    warehouse_set_active(warehouse=east, active=True, actor=STAFF)
    dispatch("stock.available")
    assert held(order) == {"WEST": 1, "EAST": 2} and waiting(order) == [0]


def test_a_short_count_takes_units_from_the_newest_orders_and_routes_them_again(seller, lamp, east, west):
    now = timezone.now()
    stocked(lamp, east, 5)
    older = place(seller, [("LAMP", 3)], placed_at=now - timedelta(hours=2))
    newer = place(seller, [("LAMP", 2)], placed_at=now - timedelta(hours=1))
    stocked(lamp, west, 1)

    stock_count(product=lamp, warehouse=east, counted=3, actor=STAFF, reason="shelf count")
    east_row = stock_row(lamp, east)
    assert (east_row.on_hand, east_row.allocated) == (3, 3)  # never promises units it lacks
    dispatch("stock.shortfall")

    assert held(older) == {"EAST": 3}
    assert held(newer) == {"WEST": 1} and waiting(newer) == [1]
    assert stock_row(lamp, east).allocated == 3 and stock_row(lamp, west).allocated == 1
    assert newer.events.get(type=EventType.REROUTED).data["still_waiting"] == 1


@pytest.fixture
def split_line(seller, lamp, east, west):
    """One line of 2 LAMPs: 1 reserved at WEST when placed, 1 filled from EAST later, so
    the line's newest allocation is not the one at WEST."""
    stocked(lamp, west, 1)
    order = place(seller, [("LAMP", 2)])
    stocked(lamp, east, 1)
    dispatch("stock.available")
    assert held(order) == {"WEST": 1, "EAST": 1}
    return order


def test_a_short_count_takes_the_units_off_the_short_row_not_the_newest_allocation(
    seller, lamp, east, west, split_line
):
    stock_adjust(product=lamp, warehouse=west, delta=-1, reason="broken", actor=STAFF)
    dispatch("stock.shortfall")

    assert held(split_line) == {"EAST": 1} and waiting(split_line) == [1]
    assert (stock_row(lamp, west).on_hand, stock_row(lamp, west).allocated) == (0, 0)
    assert (stock_row(lamp, east).on_hand, stock_row(lamp, east).allocated) == (1, 1)
    # It balances, so the order can still be cancelled and gives back what it holds.
    order_cancel(seller_id=seller.pk, order_id=split_line.pk, actor=STAFF)
    assert stock_row(lamp, east).allocated == 0 and not Allocation.objects.exists()


def test_closing_a_warehouse_moves_the_units_held_there_not_the_newest(seller, lamp, east, west, split_line):
    warehouse_set_active(warehouse=west, active=False, actor=STAFF)
    dispatch("warehouse.deactivated")

    assert held(split_line) == {"EAST": 1} and waiting(split_line) == [1]
    assert stock_row(lamp, west).allocated == 0 and stock_row(lamp, east).allocated == 1


def test_a_damaged_kit_component_moves_whole_kits(seller, gift_box, east, west):
    kit, candle, holder = gift_box
    stocked(candle, east, 4)
    stocked(holder, east, 2)
    stocked(candle, west, 4)
    stocked(holder, west, 2)
    order = place(seller, [("GIFTBOX", 2)])
    assert held(order) == {"EAST": 6}

    stock_adjust(product=candle, warehouse=east, delta=-1, reason="broken", actor=STAFF)
    dispatch("stock.shortfall")

    # One kit lost a candle: that whole kit (2 candles, 1 holder) now comes from WEST.
    assert (stock_row(candle, east).allocated, stock_row(holder, east).allocated) == (2, 1)
    assert (stock_row(candle, west).allocated, stock_row(holder, west).allocated) == (2, 1)
    assert waiting(order) == [0]


def test_closing_a_warehouse_moves_the_kits_held_there_counted_as_kits(seller, gift_box, east, west):
    kit, candle, holder = gift_box
    stocked(candle, east, 2)
    stocked(holder, east, 1)
    stocked(candle, west, 2)
    stocked(holder, west, 1)
    order = place(seller, [("GIFTBOX", 2)])
    assert held(order) == {"EAST": 3, "WEST": 3}  # one kit in each

    warehouse_set_active(warehouse=east, active=False, actor=STAFF)
    dispatch("warehouse.deactivated")

    # One kit was at EAST (two candles and a holder: one kit, not two); WEST keeps its own.
    assert held(order) == {"WEST": 3} and waiting(order) == [1]
    assert order.events.get(type=EventType.REROUTED).data["moved"][0]["quantity"] == 1


# Staff overrides -----------------------------------------------------------------------


def test_staff_can_choose_the_warehouse_of_a_line_and_it_is_recorded(seller, lamp, east, west):
    stocked(lamp, east, 5)
    stocked(lamp, west, 5)
    order = place(seller, [("LAMP", 2)])
    line = order.lines.get()

    order_allocation_override(
        seller_id=seller.pk, order_id=order.pk, choices={line.pk: west.pk}, actor=STAFF, reason="customer asked"
    )

    assert held(order) == {"WEST": 2}
    assert (stock_row(lamp, east).allocated, stock_row(lamp, west).allocated) == (0, 2)
    event = order.events.get(type=EventType.ALLOCATION_OVERRIDDEN)
    assert event.data["lines"][0]["warehouse"] == "WEST" and event.data["reason"] == "customer asked"
    assert event.data["lines"][0]["before"] == [{"warehouse": "EAST", "product_id": lamp.pk, "quantity": 2}]


def test_an_override_is_refused_when_the_warehouse_cannot_take_it(seller, lamp, east, west):
    stocked(lamp, east, 5)
    stocked(lamp, west, 1)
    order = place(seller, [("LAMP", 2)])
    line = order.lines.get()
    eu = WarehouseFactory(seller=seller, code="EU", country="DE", ships_to=["DE"])
    stocked(lamp, eu, 5)

    with pytest.raises(InvalidOrder) as refused:
        order_allocation_override(seller_id=seller.pk, order_id=order.pk, choices={line.pk: eu.pk}, actor=STAFF)
    assert refused.value.details == {f"lines.{line.pk}": ["EU does not ship to US."]}
    with pytest.raises(InsufficientStock):
        order_allocation_override(seller_id=seller.pk, order_id=order.pk, choices={line.pk: west.pk}, actor=STAFF)

    assert held(order) == {"EAST": 2}
    assert not order.events.filter(type=EventType.ALLOCATION_OVERRIDDEN).exists()


# Explanation ---------------------------------------------------------------------------


def test_every_allocation_says_which_candidates_were_weighed_and_why(seller, lamp, east, west):
    stocked(lamp, east, 5)
    stocked(lamp, west, 5)
    eu = WarehouseFactory(seller=seller, code="EU", country="DE", ships_to=["DE"])
    stocked(lamp, eu, 5)

    order = place(seller, [("LAMP", 2)])

    data = order.events.get(type=EventType.STOCK_ALLOCATED).data
    by_code = {c["warehouse"]: c for c in data["candidates"]}
    assert data["candidates"][0]["warehouse"] == "EAST" and by_code["EAST"]["chosen"]
    assert by_code["WEST"]["eligible"] and not by_code["WEST"]["chosen"]
    assert by_code["EAST"]["distance_km"] < by_code["WEST"]["distance_km"]
    assert by_code["EU"]["eligible"] is False
    assert "one shipment" in data["reason"]


def test_a_kit_is_as_available_as_its_scarcest_component(seller, gift_box, east, west):
    from inventory.selectors import product_availability

    kit, candle, holder = gift_box
    stocked(candle, east, 7)  # 3 kits' worth
    stocked(holder, east, 10)
    stocked(candle, west, 10)  # no holder in WEST: no kit there
    place(seller, [("CANDLE", 2)])  # EAST now has 5 free candles: 2 kits

    availability = product_availability(seller_id=seller.pk, product_ids=[kit.pk])[kit.pk]

    assert [(w.warehouse_code, w.available) for w in availability.warehouses] == [("EAST", 2)]
    assert availability.available == 2


def test_a_new_order_does_not_jump_the_queue_of_waiting_backorders(seller, lamp, east):
    waiting_order = place(seller, [("LAMP", 2)])
    stock_receive(product=lamp, warehouse=east, quantity=3, actor=STAFF)
    # Before the worker has filled the backorder, a new order arrives.
    newcomer = place(seller, [("LAMP", 3)])

    assert held(newcomer) == {"EAST": 1} and waiting(newcomer) == [2]
    dispatch("stock.available")
    assert waiting(waiting_order) == [0] and held(waiting_order) == {"EAST": 2}


def test_the_sweep_fills_backorders_a_lost_task_left_waiting(seller, lamp, east):
    from orders.services.allocation import backorders_sweep

    order = place(seller, [("LAMP", 2)])
    stock_receive(product=lamp, warehouse=east, quantity=2, actor=STAFF)  # its event never dispatched

    assert backorders_sweep() == 2
    assert waiting(order) == [0] and held(order) == {"EAST": 2}


def test_a_short_count_never_takes_units_from_an_order_being_picked(seller, lamp, east, west):
    now = timezone.now()
    stocked(lamp, east, 4)
    stocked(lamp, west, 5)
    confirmed = place(seller, [("LAMP", 2)], placed_at=now - timedelta(hours=2))
    picking = place(seller, [("LAMP", 2)], placed_at=now - timedelta(hours=1))
    order_transition(seller_id=seller.pk, order_id=picking.pk, to=Lifecycle.IN_FULFILLMENT, actor=STAFF)

    stock_count(product=lamp, warehouse=east, counted=3, actor=STAFF)
    dispatch("stock.shortfall")

    assert held(picking) == {"EAST": 2}  # the box being packed keeps its units
    assert held(confirmed) == {"EAST": 1, "WEST": 1}


def test_an_order_held_while_being_picked_keeps_its_stock_and_returns_to_fulfilment(seller, lamp, east, west):
    from orders.exceptions import OrderNotEditable as NotEditable
    from orders.models import HoldKind
    from orders.services.holds import order_hold_place, order_hold_release

    stocked(lamp, east, 5)
    stocked(lamp, west, 5)
    order = place(seller, [("LAMP", 2)])
    order_transition(seller_id=seller.pk, order_id=order.pk, to=Lifecycle.IN_FULFILLMENT, actor=STAFF)
    order_hold_place(seller_id=seller.pk, order_id=order.pk, kind=HoldKind.DISPUTE, reason="disputed", actor=STAFF)

    with pytest.raises(NotEditable):
        order_line_cancel(seller_id=seller.pk, order_id=order.pk, line_id=order.lines.get().pk, quantity=1, actor=STAFF)
    with pytest.raises(NotEditable):
        order_allocation_override(
            seller_id=seller.pk, order_id=order.pk, choices={order.lines.get().pk: west.pk}, actor=STAFF
        )
    warehouse_set_active(warehouse=east, active=False, actor=STAFF)
    dispatch("warehouse.deactivated")
    assert held(order) == {"EAST": 2}

    released = order_hold_release(seller_id=seller.pk, order_id=order.pk, actor=STAFF)
    assert released.lifecycle == Lifecycle.IN_FULFILLMENT
