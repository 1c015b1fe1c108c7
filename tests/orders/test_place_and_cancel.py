from decimal import Decimal

import pytest
from django.db.models import Sum
from djmoney.money import Money

from core.actor import Actor
from core.models import OutboxEvent
from inventory.exceptions import InsufficientStock
from inventory.models import Product, Stock
from orders.exceptions import DuplicateExternalId, InvalidOrder, InvalidTransition
from orders.models import Allocation, EventType, Order, OrderLine
from orders.services import LineInput, order_cancel, order_place, order_transition
from orders.status import FulfillmentStatus, Lifecycle
from tests.factories import ProductFactory, WarehouseFactory, order_input, place, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def mug(seller):
    return ProductFactory(seller=seller, sku="MUG")


@pytest.fixture
def east(seller):
    return WarehouseFactory(seller=seller, code="EAST", priority=1)


@pytest.fixture
def west(seller):
    return WarehouseFactory(seller=seller, code="WEST", priority=2)


def allocated(product):
    return Stock.objects.filter(product=product).aggregate(total=Sum("allocated"))["total"] or 0


def test_placing_reserves_stock_numbers_the_order_and_writes_its_timeline(seller, mug, east):
    stocked(mug, east, 10)

    first = place(seller, [("MUG", 3)], shipping_total=Decimal("4.99"), tax_total=Decimal("1.20"))
    second = place(seller, [("MUG", 1)])

    assert (first.number, second.number) == (1, 2)
    assert first.lifecycle == Lifecycle.CONFIRMED
    assert first.fulfillment_status == FulfillmentStatus.ALLOCATED
    assert str(first.total.amount) == "36.19"  # 3 × 10.00 + 4.99 + 1.20
    assert allocated(mug) == 4
    assert list(first.events.values_list("type", flat=True)) == [
        EventType.PLACED,
        EventType.STOCK_ALLOCATED,
        EventType.STATUS_CHANGED,
    ]
    assert OutboxEvent.objects.filter(topic="order.created", aggregate_id=str(first.pk)).count() == 1


def test_order_totals_add_up(seller, mug, east):
    cup = ProductFactory(seller=seller, sku="CUP")
    stocked(mug, east, 10)
    stocked(cup, east, 10)
    data = order_input([], discount_total=Decimal("2.50"), shipping_total=Decimal("5.00"), tax_total=Decimal("3.33"))
    data.lines.extend([LineInput("MUG", 2, Decimal("9.99")), LineInput("CUP", 3)])

    order = order_place(seller=seller, data=data, actor=Actor.system("test"))
    lines = list(order.lines.all())

    assert sum(line.line_total.amount for line in lines) == order.subtotal.amount == Decimal("49.98")
    assert order.total.amount == order.subtotal.amount + Decimal("5.00") + Decimal("3.33") - Decimal("2.50")


def test_insufficient_stock_refuses_the_whole_order_and_writes_nothing(seller, mug, east):
    cup = ProductFactory(seller=seller, sku="CUP")
    stocked(mug, east, 10)
    stocked(cup, east, 1)

    with pytest.raises(InsufficientStock) as refused:
        place(seller, [("MUG", 2), ("CUP", 2)])

    assert refused.value.details == {"shortages": [{"sku": "CUP", "requested": 2, "available": 1}]}
    assert Order.objects.count() == 0 and OrderLine.objects.count() == 0
    assert allocated(mug) == 0 and allocated(cup) == 0
    assert not OutboxEvent.objects.filter(topic__startswith="order.").exists()
    assert place(seller, [("MUG", 1)]).number == 1, "a refused order must not use up a number"


def test_an_order_no_single_warehouse_can_fill_is_split(seller, mug, east, west):
    stocked(mug, east, 2)
    stocked(mug, west, 3)

    order = place(seller, [("MUG", 4)])

    parts = sorted(Allocation.objects.filter(line__order=order).values_list("stock__warehouse__code", "quantity"))
    assert parts == [("EAST", 2), ("WEST", 2)]


def test_two_lines_of_one_product_share_the_stock(seller, mug, east):
    stocked(mug, east, 3)

    with pytest.raises(InsufficientStock):
        place(seller, [("MUG", 2), ("MUG", 2)])
    order = place(seller, [("MUG", 2), ("MUG", 1)])

    assert [sum(a.quantity for a in line.allocations.all()) for line in order.lines.all()] == [2, 1]
    assert allocated(mug) == 3


def test_split_among_lines_hands_out_in_line_order_and_kits_take_every_component():
    from inventory.routing.base import Assignment, RoutingPlan
    from inventory.services import LineRequest, split_among_lines

    requests = [
        LineRequest(3, ((1, 1),)),
        LineRequest(1, ((2, 1),)),
        LineRequest(2, ((1, 1),)),
        LineRequest(1, ((1, 2), (2, 1))),  # a kit: two of product 1 and one of product 2
    ]
    plan = RoutingPlan(assignments=(Assignment(1, 10, 6), Assignment(1, 20, 1), Assignment(2, 10, 2)))

    shares = split_among_lines(requests, [3, 1, 2, 1], plan)

    assert shares == [((1, 10, 3),), ((2, 10, 1),), ((1, 10, 2),), ((1, 10, 1), (1, 20, 1), (2, 10, 1))]


def test_cancel_releases_stock_and_records_what_was_released(seller, mug, east, west):
    stocked(mug, east, 1)
    stocked(mug, west, 2)
    order = place(seller, [("MUG", 3)])

    cancelled = order_cancel(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("test"), reason="fraud")

    assert cancelled.lifecycle == Lifecycle.CANCELLED
    assert allocated(mug) == 0
    assert not Allocation.objects.filter(line__order=order).exists()
    assert order.lines.get().quantity_cancelled == 3
    released = order.events.get(type=EventType.STOCK_RELEASED).data["lines"]
    assert sorted((r["warehouse_id"], r["quantity"]) for r in released) == sorted([(east.pk, 1), (west.pk, 2)])
    assert OutboxEvent.objects.filter(topic="order.cancelled").count() == 1


def test_cancelling_twice_is_refused_without_side_effects(seller, mug, east):
    stocked(mug, east, 5)
    order = place(seller, [("MUG", 1)])
    order_cancel(seller_id=seller.pk, order_id=order.pk, actor=Actor.system())
    events_before = order.events.count()

    with pytest.raises(InvalidTransition) as refused:
        order_cancel(seller_id=seller.pk, order_id=order.pk, actor=Actor.system())

    assert refused.value.status_code == 409
    assert order.events.count() == events_before


def test_transitions_outside_the_table_are_refused(seller, mug, east):
    stocked(mug, east, 5)
    order = place(seller, [("MUG", 1)])

    with pytest.raises(InvalidTransition):
        order_transition(seller_id=seller.pk, order_id=order.pk, to=Lifecycle.DRAFT, actor=Actor.system())
    held = order_transition(seller_id=seller.pk, order_id=order.pk, to=Lifecycle.ON_HOLD, actor=Actor.system())

    assert held.lifecycle == Lifecycle.ON_HOLD
    assert order.events.filter(type=EventType.STATUS_CHANGED, data__after="on_hold").exists()


def test_another_sellers_order_cannot_be_cancelled(seller, other_seller, mug, east):
    stocked(mug, east, 5)
    order = place(seller, [("MUG", 1)])

    with pytest.raises(Exception) as refused:
        order_cancel(seller_id=other_seller.pk, order_id=order.pk, actor=Actor.system())

    assert refused.value.code == "order_not_found"
    assert Order.objects.get(pk=order.pk).lifecycle == Lifecycle.CONFIRMED


def test_duplicate_external_id_in_a_channel_is_refused(seller, mug, east):
    stocked(mug, east, 5)
    place(seller, [("MUG", 1)], external_id="shop-1001")

    with pytest.raises(DuplicateExternalId):
        place(seller, [("MUG", 1)], external_id="shop-1001")
    place(seller, [("MUG", 1)], external_id="shop-1001", channel="pos")

    assert Order.objects.count() == 2
    assert allocated(mug) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "JPY", "shipping_total": Decimal("1.5")}, "lines.0.unit_price"),
        ({"shipping_total": Decimal("0.001")}, "shipping_total"),
        ({"discount_total": Decimal("-1")}, "discount_total"),
    ],
)
def test_invalid_orders_list_their_fields_and_write_nothing(seller, mug, east, overrides, field):
    stocked(mug, east, 5)

    with pytest.raises(InvalidOrder) as refused:
        place(seller, [("MUG", 1)], **overrides)

    assert field in refused.value.details
    assert Order.objects.count() == 0 and allocated(mug) == 0


def test_the_line_total_is_the_rounded_unit_price_times_the_quantity(seller, east):
    ProductFactory(seller=seller, sku="NAIL", price=Money("0.125", "USD"))
    stocked(Product.objects.get(sku="NAIL"), east, 10)

    line = place(seller, [("NAIL", 4)]).lines.get()

    assert (line.unit_price, line.line_total) == (Money("0.13", "USD"), Money("0.52", "USD"))


def test_an_order_without_lines_is_a_clean_refusal_from_the_service(seller):
    with pytest.raises(InvalidOrder) as refused:
        place(seller, [])
    assert "lines" in refused.value.details


def test_a_placed_order_carries_its_lines_and_allocations_as_a_prefetch_would(seller, django_assert_num_queries):
    """order_place fills the relations' prefetch caches from the rows it wrote: reading
    them costs nothing, and filtering them still asks the database, Money lookups too."""
    mug = ProductFactory(seller=seller, sku="MUG-P", price=Money("5.00", "USD"))
    tea = ProductFactory(seller=seller, sku="TEA-P", price=Money("7.00", "USD"))
    warehouse = WarehouseFactory(seller=seller)
    stocked(mug, warehouse, 5)
    stocked(tea, warehouse, 5)
    order = place(seller, [("MUG-P", 2), ("TEA-P", 1)])
    with django_assert_num_queries(0):
        lines = list(order.lines.all())
        allocated = [sum(a.quantity for a in line.allocations.all()) for line in lines]
    assert [line.sku for line in lines] == ["MUG-P", "TEA-P"] and allocated == [2, 1]
    assert [line.sku for line in order.lines.filter(unit_price=Money("7.00", "USD"))] == ["TEA-P"]
    assert order.lines.get(sku="MUG-P").pk == lines[0].pk
    assert lines[0].allocations.filter(quantity=2).count() == 1
