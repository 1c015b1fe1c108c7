"""Real threads, each with its own PostgreSQL connection, racing for the same stock."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from core.actor import Actor
from inventory.models import Stock
from orders.models import Order
from orders.services import order_cancel
from tests.conftest import client_for
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, order_body, place, stocked

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 32
UNITS = 10


def test_32_clients_racing_for_the_last_10_units_sell_exactly_10():
    seller = SellerFactory()
    product = ProductFactory(seller=seller, sku="LAST-TEN")
    stocked(product, WarehouseFactory(seller=seller), UNITS)
    clients = [client_for(seller) for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS + 1)
    done = threading.Event()
    responses: list = [None] * CLIENTS
    samples: list[tuple[int, int]] = []

    def buy(index):
        try:
            start.wait()
            responses[index] = clients[index].post("/api/v1/orders/", order_body([("LAST-TEN", 1)]), format="json")
        finally:
            connections.close_all()

    def watch():
        try:
            start.wait()
            while not done.is_set():
                samples.append(Stock.objects.values_list("on_hand", "allocated").get(product=product))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(CLIENTS)] + [threading.Thread(target=watch)]
    for thread in threads:
        thread.start()
    for thread in threads[:CLIENTS]:
        thread.join(timeout=60)
    done.set()
    threads[-1].join(timeout=10)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * UNITS + [409] * (CLIENTS - UNITS)
    for refused in (r.json() for r in responses if r.status_code == 409):
        assert refused["code"] == "insufficient_stock"
        assert refused["details"]["shortages"] == [{"sku": "LAST-TEN", "requested": 1, "available": 0}]
    stock = Stock.objects.get(product=product)
    assert (stock.on_hand, stock.allocated) == (UNITS, UNITS)
    assert Order.objects.filter(seller=seller).count() == UNITS
    assert sorted(Order.objects.filter(seller=seller).values_list("number", flat=True)) == list(range(1, UNITS + 1))
    assert samples, "the monitor never read the stock row"
    assert all(0 <= allocated <= on_hand for on_hand, allocated in samples)


def test_the_stock_rows_are_locked_before_they_are_updated():
    seller = SellerFactory()
    product = ProductFactory(seller=seller, sku="LOCKED")
    stocked(product, WarehouseFactory(seller=seller), 3)

    with CaptureQueriesContext(connection) as queries:
        place(seller, [("LOCKED", 1)])

    stock_sql = [q["sql"] for q in queries.captured_queries if '"inventory_stock"' in q["sql"]]
    lock = next(i for i, sql in enumerate(stock_sql) if "FOR UPDATE" in sql)
    # The UPDATE goes with the lines' INSERT, as a WITH clause (core.fastsql.deferred_writes).
    update = next(i for i, sql in enumerate(stock_sql) if 'UPDATE "inventory_stock"' in sql)
    assert lock < update


def test_cancel_and_place_racing_on_one_order_leave_stock_consistent():
    seller = SellerFactory()
    product = ProductFactory(seller=seller, sku="RACE")
    stocked(product, WarehouseFactory(seller=seller), 4)
    orders = [place(seller, [("RACE", 1)]) for _ in range(4)]

    start = threading.Barrier(8)
    errors: list[str] = []

    def cancel(order):
        try:
            start.wait()
            order_cancel(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("race"))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(getattr(exc, "code", repr(exc)))
        finally:
            connections.close_all()

    def buy():
        try:
            start.wait()
            place(seller, [("RACE", 1)])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(getattr(exc, "code", repr(exc)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=cancel, args=(o,)) for o in orders] + [
        threading.Thread(target=buy) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    stock = Stock.objects.get(product=product)
    open_orders = Order.objects.filter(seller=seller).exclude(lifecycle="cancelled").count()
    assert set(errors) <= {"insufficient_stock"}
    assert stock.allocated == open_orders
    assert stock.on_hand == 4


def test_kits_and_their_components_racing_for_one_shelf_never_oversell_it():
    """Orders mixing a kit (2 candles + 1 holder) and loose candles, placed at once:
    the candles are one pool, so the sum of what was sold never exceeds the shelf."""
    from inventory.models import KitComponent, ProductKind

    seller = SellerFactory()
    warehouse = WarehouseFactory(seller=seller)
    candle = ProductFactory(seller=seller, sku="CANDLE")
    holder = ProductFactory(seller=seller, sku="HOLDER")
    kit = ProductFactory(seller=seller, sku="GIFTBOX", kind=ProductKind.KIT)
    KitComponent.objects.create(kit=kit, component=candle, quantity=2)
    KitComponent.objects.create(kit=kit, component=holder, quantity=1)
    stocked(candle, warehouse, 9)
    stocked(holder, warehouse, 10)
    baskets = [[("GIFTBOX", 1)], [("CANDLE", 1)], [("GIFTBOX", 1), ("CANDLE", 1)]] * 4
    clients = [client_for(seller) for _ in baskets]
    start = threading.Barrier(len(baskets))
    responses: list = [None] * len(baskets)

    def buy(index):
        try:
            start.wait()
            responses[index] = clients[index].post("/api/v1/orders/", order_body(baskets[index]), format="json")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(len(baskets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    sold = 0
    for basket, response in zip(baskets, responses, strict=True):
        assert response.status_code in (201, 409), response.content
        if response.status_code == 201:
            sold += sum(2 * qty if sku == "GIFTBOX" else qty for sku, qty in basket)
    candles = Stock.objects.get(product=candle)
    assert candles.allocated == sold <= candles.on_hand == 9
    assert sold >= 8  # the shelf is used up, not left idle by refusals
