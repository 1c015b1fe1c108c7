"""core.fastsql must give what the ORM gives: the same instances from a SELECT, the same
rows from an INSERT; and the locked routing read the same rows as routing_stocks."""

import uuid

import pytest
from djmoney.money import Money

from core.actor import Actor
from core.fastsql import insert_rows, placeholders, select_instances
from core.models import OutboxEvent
from inventory.locks import routing_stocks_locked
from inventory.models import Product
from inventory.selectors import routing_stocks
from orders.events import order_event
from orders.models import EventType, Order, OrderEvent, OrderLine
from tests.factories import ProductFactory, WarehouseFactory, place, stocked


def fields(instance) -> dict:
    return {key: value for key, value in instance.__dict__.items() if not key.startswith("_")}


def test_select_instances_equal_the_orms(seller):
    ProductFactory(seller=seller, sku="A", price=Money("12.3456", "EUR"), restricted_countries=["RU"])
    ProductFactory(seller=seller, sku="B", preorder_cap=5)
    ProductFactory(sku="A")  # another seller's
    fast = select_instances(Product, f"seller_id = %s AND sku IN ({placeholders(2)})", [seller.pk, "A", "B"])
    orm = Product.objects.filter(seller=seller, sku__in=["A", "B"])
    assert sorted(map(fields, fast), key=lambda f: f["id"]) == sorted(map(fields, orm), key=lambda f: f["id"])
    product = next(p for p in fast if p.sku == "A")
    assert product.price == Money("12.3456", "EUR")
    assert product.restricted_countries == ["RU"]
    assert not product._state.adding


def test_insert_rows_writes_what_bulk_create_would(seller):
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    order = place(seller, [("MUG", 1)])
    events = [
        order_event(order, EventType.PLACED, actor=Actor.system("test"), data={"a": [1, "é"]}),
        order_event(order, EventType.STATUS_CHANGED, actor=Actor.system("test")),
    ]
    insert_rows(events)
    assert all(event.pk for event in events) and events[0].pk < events[1].pk
    stored = {event.pk: event for event in OrderEvent.objects.filter(order=order)}
    for event in events:
        assert fields(stored[event.pk]) == fields(event)
    assert stored[events[0].pk].data == {"a": [1, "é"]}
    assert events[0].created_at is not None  # auto_now_add went through pre_save


def test_insert_rows_keeps_uuid_defaults_and_json(seller):
    event = OutboxEvent(topic="t", seller_id=seller.pk, aggregate_type="x", aggregate_id="1", payload={"k": 1})
    insert_rows([event])
    stored = OutboxEvent.objects.get(pk=event.pk)
    assert isinstance(stored.event_id, uuid.UUID) and stored.event_id == event.event_id
    assert stored.payload == {"k": 1} and stored.handled == []


def test_insert_rows_refuses_an_unsaved_related_object(seller):
    order = Order(seller=seller)
    with pytest.raises(ValueError, match="unsaved related object"):
        insert_rows([OrderLine(order=order, position=0, sku="X", name="X", quantity=1, unit_price=Money(1, "USD"))])


def test_insert_rows_with_a_key_drawn_beforehand(seller):
    first = OutboxEvent(topic="t", seller_id=seller.pk, aggregate_type="x", aggregate_id="1", payload={})
    insert_rows([first])
    drawn = OutboxEvent(pk=first.pk + 1000, topic="t", seller_id=seller.pk, aggregate_type="x", aggregate_id="2")
    insert_rows([drawn], with_pk=True)
    assert drawn.pk == first.pk + 1000 and not drawn._state.adding
    assert OutboxEvent.objects.get(pk=first.pk + 1000).aggregate_id == "2"


def test_insert_rows_of_nothing_does_nothing(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        insert_rows([])


def test_the_locked_routing_read_equals_routing_stocks(seller):
    east, west = WarehouseFactory(seller=seller, code="E"), WarehouseFactory(seller=seller, code="W")
    closed = WarehouseFactory(seller=seller, code="C", is_active=False)
    lamp, mug = ProductFactory(seller=seller), ProductFactory(seller=seller)
    for warehouse in (east, west, closed):
        stocked(lamp, warehouse, 3)
    stocked(mug, west, 2)
    other = ProductFactory()
    stocked(other, WarehouseFactory(seller=other.seller), 9)  # another seller's

    for warehouse_ids in (None, [west.pk], [closed.pk], []):
        fast = routing_stocks_locked(seller_id=seller.pk, product_ids=[lamp.pk, mug.pk], warehouse_ids=warehouse_ids)
        orm = list(routing_stocks(seller_id=seller.pk, product_ids=[lamp.pk, mug.pk], warehouse_ids=warehouse_ids))
        assert [fields(s) for s in fast] == [fields(s) for s in orm]
        assert [fields(s.warehouse) for s in fast] == [fields(s.warehouse) for s in orm]
    assert [s.warehouse.code for s in routing_stocks_locked(seller_id=seller.pk, product_ids=[lamp.pk])] == ["E", "W"]


def test_order_numbers_stay_gap_free_whether_the_insert_or_a_statement_of_its_own_takes_them(seller):
    """Without history rules the order's INSERT takes the number (on PostgreSQL); with
    one, sequence_next does, before the checks. One sequence either way."""
    from orders.models import RiskRule, RiskRuleKind

    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 10)
    first = place(seller, [("MUG", 1)])  # the sequence's first use
    rule = RiskRule.objects.create(seller=seller, kind=RiskRuleKind.VELOCITY_EMAIL, params={"max_orders": 50})
    second = place(seller, [("MUG", 1)])
    rule.delete()
    third = place(seller, [("MUG", 1)])
    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert Order.objects.get(pk=third.pk).number == 3
