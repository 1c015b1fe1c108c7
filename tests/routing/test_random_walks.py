"""Random walks of order and stock operations (place, cancel lines and orders, change
addresses, receive, adjust and count stock, close and open warehouses, holds, staff
overrides), checking after every step what must always hold: every stock row's
``allocated`` is the sum of its allocations and its ``on_hand`` the sum of its ledger,
0 ≤ allocated ≤ on_hand, each line holds exactly the units it has open and not waiting
(in components for a kit), and a cancelled order holds and waits for nothing. Seeded,
so a failure replays."""

import random
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from django.db.models import Sum

from core.actor import Actor
from core.exceptions import ApplicationError
from inventory.models import BackorderPolicy, KitComponent, ProductKind, Stock, StockLedgerEntry
from inventory.services import stock_adjust, stock_count, stock_receive, warehouse_set_active
from orders.models import Allocation, Order, OrderLine
from orders.services import AddressInput, order_cancel
from orders.services.allocation import order_allocation_override
from orders.services.changes import order_line_cancel, order_shipping_address_update
from orders.services.holds import order_hold_cancel, order_hold_place, order_hold_release
from orders.status import Lifecycle
from tests.factories import ProductFactory, WarehouseFactory, place
from tests.routing.outbox import dispatch as outbox_dispatch_topics

pytestmark = pytest.mark.django_db
STAFF = Actor.system("walk")
US = AddressInput(name="Ada", line1="1 Way", city="Boston", country="US", postal_code="02110")
CA = AddressInput(name="Ada", line1="1 Rue", city="Montreal", country="CA", postal_code="H2X 1Y4")
TOPICS = ("stock.available", "stock.shortfall", "warehouse.deactivated")


def dispatch():
    """Until the handlers' own announcements are handled too."""
    for _ in range(5):
        if not outbox_dispatch_topics(*TOPICS):
            return


def check(step):
    problems = []
    for stock in Stock.objects.all():
        held = Allocation.objects.filter(stock=stock).aggregate(t=Sum("quantity"))["t"] or 0
        ledger = StockLedgerEntry.objects.filter(stock=stock).aggregate(t=Sum("quantity"))["t"] or 0
        if held != stock.allocated:
            problems.append(f"stock {stock.pk} allocated={stock.allocated} allocations={held}")
        if ledger != stock.on_hand:
            problems.append(f"stock {stock.pk} on_hand={stock.on_hand} ledger={ledger}")
        if not 0 <= stock.allocated <= stock.on_hand:
            problems.append(f"stock {stock.pk} {stock.allocated}/{stock.on_hand}")
    kits = defaultdict(dict)
    for k, c, q in KitComponent.objects.values_list("kit_id", "component_id", "quantity"):
        kits[k][c] = q
    for line in OrderLine.objects.select_related("order"):
        if line.quantity != line.quantity_shipped + line.quantity_cancelled + line.quantity_open:
            problems.append(f"line {line.pk} quantities")
        if line.quantity_backordered < 0 or line.quantity_backordered > line.quantity_open:
            problems.append(f"line {line.pk} backordered={line.quantity_backordered} open={line.quantity_open}")
        units = line.quantity_open - line.quantity_backordered
        per = kits.get(line.product_id, {line.product_id: 1})
        got = defaultdict(int)
        for a in Allocation.objects.filter(line=line).select_related("stock"):
            got[a.stock.product_id] += a.quantity
        want = {p: units * q for p, q in per.items() if units}
        if dict(got) != want:
            problems.append(f"line {line.pk} ({line.order.lifecycle}) allocs {dict(got)} want {want}")
        if line.order.lifecycle == Lifecycle.CANCELLED and (line.quantity_backordered or got):
            problems.append(f"cancelled order line {line.pk} still holds/waits")
    assert not problems, (step, problems)


# A few walks, and three that once left stock unbalanced (units moved off the wrong row).
@pytest.mark.parametrize("seed", [*range(100, 106), 112, 131, 148])
def test_stock_balances_after_any_sequence_of_order_and_stock_operations(seller, seed):
    rnd = random.Random(seed)
    east = WarehouseFactory(seller=seller, code="EAST", ships_to=["US"], priority=1, latitude="40.7", longitude="-74.1")
    west = WarehouseFactory(
        seller=seller, code="WEST", ships_to=["US", "CA"], priority=2, latitude="34.0", longitude="-118.2"
    )
    lamp = ProductFactory(seller=seller, sku="LAMP", backorder_policy=BackorderPolicy.ALLOW)
    mug = ProductFactory(seller=seller, sku="MUG")
    candle = ProductFactory(seller=seller, sku="CANDLE", backorder_policy=BackorderPolicy.ALLOW)
    kit = ProductFactory(seller=seller, sku="BOX", kind=ProductKind.KIT, backorder_policy=BackorderPolicy.ALLOW)
    KitComponent.objects.create(kit=kit, component=candle, quantity=2)
    KitComponent.objects.create(kit=kit, component=lamp, quantity=1)
    products = [lamp, mug, candle]
    whs = [east, west]
    for p in products:
        for w in whs:
            stock_receive(product=p, warehouse=w, quantity=rnd.randint(0, 6) or 1, actor=STAFF)
    log = []
    for step in range(70):
        op = rnd.choice(
            [
                "place",
                "place",
                "line_cancel",
                "cancel",
                "address",
                "receive",
                "adjust",
                "count",
                "close",
                "open",
                "hold",
                "release",
                "hold_cancel",
                "override",
            ]
        )
        orders = list(Order.objects.exclude(lifecycle=Lifecycle.CANCELLED))
        order = rnd.choice(orders) if orders else None
        try:
            with transaction.atomic():
                if op == "place":
                    lines = [
                        (rnd.choice(["LAMP", "MUG", "CANDLE", "BOX"]), rnd.randint(1, 4))
                        for _ in range(rnd.randint(1, 3))
                    ]
                    place(seller, lines, shipping_address=rnd.choice([US, US, CA]))
                elif op == "line_cancel" and order:
                    line = rnd.choice(list(order.lines.all()))
                    q = rnd.choice([None, 1, 2])
                    order_line_cancel(seller_id=seller.pk, order_id=order.pk, line_id=line.pk, quantity=q, actor=STAFF)
                elif op == "cancel" and order:
                    order_cancel(seller_id=seller.pk, order_id=order.pk, actor=STAFF)
                elif op == "address" and order:
                    order_shipping_address_update(
                        seller_id=seller.pk, order_id=order.pk, address=rnd.choice([US, CA]), actor=STAFF
                    )
                elif op == "receive":
                    stock_receive(
                        product=rnd.choice(products), warehouse=rnd.choice(whs), quantity=rnd.randint(1, 5), actor=STAFF
                    )
                elif op == "adjust":
                    stock_adjust(
                        product=rnd.choice(products),
                        warehouse=rnd.choice(whs),
                        delta=-rnd.randint(1, 3),
                        reason="x",
                        actor=STAFF,
                    )
                elif op == "count":
                    stock_count(
                        product=rnd.choice(products), warehouse=rnd.choice(whs), counted=rnd.randint(0, 5), actor=STAFF
                    )
                elif op == "close":
                    warehouse_set_active(warehouse=rnd.choice(whs), active=False, actor=STAFF)
                elif op == "open":
                    warehouse_set_active(warehouse=rnd.choice(whs), active=True, actor=STAFF)
                elif op == "hold" and order:
                    order_hold_place(seller_id=seller.pk, order_id=order.pk, kind="manual", reason="r", actor=STAFF)
                elif op == "release" and order:
                    order_hold_release(seller_id=seller.pk, order_id=order.pk, actor=STAFF)
                elif op == "hold_cancel" and order:
                    order_hold_cancel(seller_id=seller.pk, order_id=order.pk, actor=STAFF)
                elif op == "override" and order:
                    line = rnd.choice(list(order.lines.all()))
                    order_allocation_override(
                        seller_id=seller.pk, order_id=order.pk, choices={line.pk: rnd.choice(whs).pk}, actor=STAFF
                    )
                log.append((step, op, "ok"))
        except ApplicationError as exc:
            log.append((step, op, type(exc).__name__))
        dispatch()
        check(log[-8:])
    # The walk did something: most steps succeeded, not all were refused.
    outcomes = Counter(result for _, _, result in log)
    assert outcomes["ok"] > len(log) / 2, outcomes
