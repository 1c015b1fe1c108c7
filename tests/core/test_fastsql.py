"""core.fastsql must give what the ORM gives: the same instances from a SELECT, the same
rows from an INSERT; and the locked routing read the same rows as routing_stocks.
Deferred writes must be invisible to everything but the statement count."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money
from psycopg import _queries

from core.actor import Actor
from core.fastsql import deferred_writes, insert_rows, placeholders, select_instances, write
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


def outbox(seller, n: int) -> list[OutboxEvent]:
    return [
        OutboxEvent(topic="t", seller_id=seller.pk, aggregate_type="x", aggregate_id=str(i), payload={"i": i})
        for i in range(n)
    ]


postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="deferred writes need PostgreSQL")


@postgres_only
def test_deferred_rows_go_with_the_next_insert_and_get_their_keys(seller):
    held, other, ridden = outbox(seller, 3), outbox(seller, 2), outbox(seller, 1)
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), deferred_writes():
        insert_rows(held, deferred=True)
        insert_rows(other, deferred=True)
        assert all(event.pk is None for event in held + other)
        insert_rows(ridden)  # takes the held rows along
        assert all(event.pk for event in held + other)
    writes = [q["sql"] for q in captured.captured_queries if "core_outboxevent" in q["sql"]]
    assert len(writes) == 1 and writes[0].count('INSERT INTO "core_outboxevent"') == 3
    keys = [event.pk for event in held + other]
    assert keys == sorted(keys) and len(set(keys)) == 5
    for event in held + other + ridden:
        assert not event._state.adding
        assert OutboxEvent.objects.get(pk=event.pk).payload == event.payload


@postgres_only
def test_what_is_held_at_the_end_goes_in_one_statement(seller):
    events = outbox(seller, 2)
    stock = stocked(ProductFactory(seller=seller), WarehouseFactory(seller=seller), 5)
    with CaptureQueriesContext(connection) as captured, transaction.atomic(), deferred_writes():
        write('UPDATE "inventory_stock" SET "allocated" = "allocated" + %s WHERE "id" = %s', [2, stock.pk])
        insert_rows(events, deferred=True)
    sent = [q["sql"] for q in captured.captured_queries if "inventory_stock" in q["sql"]]
    assert len(sent) == 1 and "core_outboxevent" in sent[0]
    stock.refresh_from_db()
    assert stock.allocated == 2 and all(OutboxEvent.objects.filter(pk=event.pk).exists() for event in events)


@postgres_only
def test_any_other_statement_sees_the_held_writes(seller):
    """An ORM read, a savepoint: whatever runs is sent after the held writes. Rows held
    inside a savepoint that rolls back are gone with it."""
    kept, dropped = outbox(seller, 1), outbox(seller, 1)
    with transaction.atomic(), deferred_writes():
        insert_rows(kept, deferred=True)
        assert OutboxEvent.objects.filter(seller_id=seller.pk).count() == 1  # the read sends the row first
        assert kept[0].pk is not None
        with pytest.raises(RuntimeError), transaction.atomic():
            insert_rows(dropped, deferred=True)
            raise RuntimeError("rolled back")
    assert OutboxEvent.objects.filter(seller_id=seller.pk).count() == 1
    assert OutboxEvent.objects.filter(pk=kept[0].pk).exists()


@postgres_only
def test_an_error_drops_what_is_held(seller):
    events = outbox(seller, 1)
    with pytest.raises(RuntimeError), transaction.atomic(), deferred_writes():
        insert_rows(events, deferred=True)
        raise RuntimeError("rolled back")
    assert not OutboxEvent.objects.filter(seller_id=seller.pk).exists()


def test_without_deferred_writes_a_deferred_insert_goes_at_once(seller):
    events = outbox(seller, 1)
    insert_rows(events, deferred=True)  # outside a transaction: at once
    assert OutboxEvent.objects.filter(pk=events[0].pk).exists()
    with transaction.atomic():
        insert_rows(more := outbox(seller, 1), deferred=True)
        assert more[0].pk is not None


@postgres_only
def test_psycopg_keeps_the_parsed_text_of_long_statements(seller):
    """core.backends.postgresql raises psycopg's limits for remembering a statement's
    placeholders (a placement's statements are long): the second run of one is a hit."""
    for _ in range(2):
        before = _queries._query2pg.cache_info()
        insert_rows(outbox(seller, 12))  # 12 rows × 10 parameters, about 2.5 kB
    after = _queries._query2pg.cache_info()
    assert after.hits > before.hits and after.misses == before.misses


def test_order_numbers_stay_gap_free_whether_the_insert_or_a_statement_of_its_own_takes_them(seller):
    """Without history rules the lines' INSERT takes the number (on PostgreSQL); with
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


def test_insert_rows_sends_money_decimals_and_choices_as_the_orm_does(seller):
    """The values insert_rows passes as they are (Money as its amount, finite decimals,
    plain ints and strings) must come back as the ORM would have stored them; the
    others (a choices enum, a float for a decimal) still go through the field."""
    from decimal import Decimal

    from orders.models import Channel

    mug = ProductFactory(seller=seller, sku="MUG")
    stocked(mug, WarehouseFactory(seller=seller), 5)
    order = place(seller, [("MUG", 1)])
    line = OrderLine(
        order=order,
        product=mug,
        position=7,
        sku="TEA",
        name="Tea",
        quantity=2,
        unit_price=Money("3.25", "USD"),
        line_total=Money(Decimal("6.50"), "USD"),
        tax_rate=0.2,  # a float: through DecimalField's conversion
    )
    insert_rows([line])
    stored = OrderLine.objects.get(pk=line.pk)
    assert stored.unit_price == Money("3.25", "USD") and stored.line_total == Money("6.50", "USD")
    assert stored.tax_rate == Decimal("0.2") and stored.quantity == 2 and stored.sku == "TEA"
    drawn = Order.objects.get(pk=order.pk)
    copy = Order(**{f.attname: getattr(drawn, f.attname) for f in Order._meta.concrete_fields if not f.primary_key})
    copy.number, copy.channel, copy.external_id = drawn.number + 100, Channel.EBAY, "E-1"
    insert_rows([copy])
    stored = Order.objects.get(pk=copy.pk)
    for field in Order._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(copy, field.attname), field.attname


@postgres_only
def test_a_block_inside_another_sends_what_is_held_when_it_ends(seller):
    first, second = outbox(seller, 1), outbox(seller, 1)
    with transaction.atomic(), deferred_writes():
        insert_rows(first, deferred=True)
        with deferred_writes():
            insert_rows(second, deferred=True)
        assert first[0].pk and second[0].pk, "both sent as the inner block ended"


@postgres_only
def test_an_error_the_caller_catches_does_not_drop_what_was_held(seller):
    """As if written at once: the transaction goes on and commits the held row (review)."""
    kept = outbox(seller, 1)
    with transaction.atomic():
        try:
            with deferred_writes():
                insert_rows(kept, deferred=True)
                raise ValueError("handled by the caller")
        except ValueError:
            pass
    assert OutboxEvent.objects.filter(seller_id=seller.pk).count() == 1


@postgres_only
def test_two_held_updates_of_one_row_both_apply(seller):
    """The clauses of one statement would apply only one change to a row (review)."""
    stock = stocked(ProductFactory(seller=seller), WarehouseFactory(seller=seller), 5)
    sql = 'UPDATE "inventory_stock" SET "allocated" = "allocated" + %s WHERE "id" = %s'
    with transaction.atomic(), deferred_writes():
        write(sql, [1, stock.pk])
        write(sql, [2, stock.pk])
    stock.refresh_from_db()
    assert stock.allocated == 3


def test_rows_become_instances_as_from_db_makes_them(seller):
    """instances_from_rows fills plain models without Model.__init__: the instances must
    be those from_db makes (values, Money read back, state), and a model with a
    post_init receiver goes through from_db."""
    from django.db.models.signals import post_init

    from core.fastsql import columns, instances_from_rows

    ProductFactory(seller=seller, sku="A", price=Money("12.3456", "EUR"), restricted_countries=["RU"])
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT {columns(Product)} FROM "inventory_product" WHERE seller_id = %s', [seller.pk])
        rows = cursor.fetchall()
    (fast,) = instances_from_rows(Product, rows)
    (orm,) = Product.objects.filter(seller=seller)
    assert fields(fast) == fields(orm)
    assert (fast._state.adding, fast._state.db) == (False, "default")
    assert fast.price == Money("12.3456", "EUR") and fast.restricted_countries == ["RU"]
    fast.name = "Renamed"
    fast.save(update_fields=["name"])
    assert Product.objects.get(pk=fast.pk).name == "Renamed"

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Product)
    try:
        (signalled,) = instances_from_rows(Product, rows)
    finally:
        post_init.disconnect(receiver, sender=Product)
    assert seen == [signalled]
