"""The hand-written OrderOutputSerializer / OrderLineOutputSerializer.to_representation
must build exactly what DRF's generic ModelSerializer.to_representation builds from the
declared fields (the OpenAPI schema describes those), and read nothing more."""

import json
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from core.actor import Actor
from inventory.models import BackorderPolicy, KitComponent, ProductKind
from orders.api import serializers as order_serializers
from orders.api.serializers import OrderLineOutputSerializer, OrderOutputSerializer
from orders.finance.models import TaxRate
from orders.models import Order
from orders.selectors import order_list
from orders.services import AddressInput, LineInput, order_cancel, order_place
from orders.services.allocation import order_ready_for_pickup
from tests.factories import ProductFactory, WarehouseFactory, order_input, place, stocked

pytestmark = pytest.mark.django_db
STAFF = Actor.system("staff")
BOSTON = AddressInput(
    name="Ada Lovelace",
    company="Analytical Engines Ltd",
    line1="12 Analytical Way",
    line2="Floor 3",
    city="Boston",
    region="MA",
    postal_code="02110",
    country="US",
    phone="+1 617 555 0100",
)
BERLIN = AddressInput(name="Grace Hopper", line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")
TOKYO = AddressInput(name="Hopper Grace", line1="1-1 Chiyoda", city="Tokyo", postal_code="100-0001", country="JP")


def place_priced(seller, sku: str, quantity: int, unit_price: str, **overrides) -> Order:
    """An order in a currency other than the products' prices: the unit price is stated."""
    data = replace(
        order_input([], **overrides), lines=[LineInput(sku=sku, quantity=quantity, unit_price=Decimal(unit_price))]
    )
    return order_place(seller=seller, data=data, actor=Actor.system("test"))


@contextmanager
def drf_generic():
    """DRF's own field-by-field rendering, nested lines included (the oracle)."""
    with mock.patch.object(order_serializers, "_render_fast", return_value=False):
        yield


def generic(serializer_class, instance) -> dict:
    with drf_generic():
        return serializers.ModelSerializer.to_representation(serializer_class(), instance)


def assert_same(fast, slow):
    assert fast == slow
    # Bytes compare key order and value formats too (a dict == ignores key order).
    assert json.dumps(fast) == json.dumps(slow)
    assert JSONRenderer().render(fast) == JSONRenderer().render(slow)


@pytest.fixture
def orders(seller):
    """Orders as varied as the API shows them; each as the placing service returned it."""
    TaxRate.objects.create(
        seller=seller, country="US", region="MA", tax_class="standard", rate=Decimal("0.0625"), name="MA sales tax"
    )
    TaxRate.objects.create(seller=seller, country="DE", tax_class="standard", rate=Decimal("0.19"), name="MwSt")
    east = WarehouseFactory(seller=seller, code="EAST")
    west = WarehouseFactory(seller=seller, code="WEST", city="Reno", postal_code="89501")
    store = WarehouseFactory(seller=seller, code="STORE", city="Boston", is_pickup_location=True)
    lamp = ProductFactory(seller=seller, sku="LAMP", name="Desk lamp", backorder_policy=BackorderPolicy.ALLOW)
    shade = ProductFactory(seller=seller, sku="SHADE", name="Lamp shade")
    candle = ProductFactory(seller=seller, sku="CANDLE")
    holder = ProductFactory(seller=seller, sku="HOLDER")
    kit = ProductFactory(seller=seller, sku="GIFTBOX", name="Gift box", kind=ProductKind.KIT)
    KitComponent.objects.create(kit=kit, component=candle, quantity=2)
    KitComponent.objects.create(kit=kit, component=holder, quantity=1)
    ProductFactory(
        seller=seller,
        sku="CONSOLE",
        backorder_policy=BackorderPolicy.PREORDER,
        preorder_cap=5,
        release_date=timezone.localdate() + timedelta(days=30),
    )
    stocked(lamp, east, 1)
    stocked(lamp, store, 2)  # taken by the pickup order, placed first
    stocked(shade, east, 2)
    stocked(shade, west, 10)
    for component in (candle, holder):
        stocked(component, east, 20)

    pickup = place(
        seller,
        [("LAMP", 2)],
        delivery_method="pickup",
        pickup_location="STORE",
        paid_externally=True,
        customer_email="",
    )
    order_ready_for_pickup(seller_id=seller.pk, order_id=pickup.pk, actor=STAFF)
    mixed = place(  # backordered, split over two warehouses, a kit, a preorder; tax; billing; metadata
        seller,
        [("LAMP", 3), ("SHADE", 4), ("GIFTBOX", 2), ("CONSOLE", 1)],
        shipping_address=BOSTON,
        billing_address=AddressInput(
            name="Ada's Accounts", line1="1 Ledger Lane", city="Cambridge", postal_code="CB2 1TN", country="GB"
        ),
        shipping_total=Decimal("6.95"),
        discount_total=Decimal("2.50"),
        tax_total=None,
        customer_name="Ada Lovelace",
        customer_phone="+1 617 555 0100",
        customer_note="Leave it with the neighbour – ☂",
        metadata={"cart": "c-1", "tags": ["gift", "vip"], "nested": {"n": 1, "f": 1.5, "none": None}},
        external_id="web-1001",
        channel="pos",
    )
    euro = place_priced(
        seller,
        "SHADE",
        1,
        "19.99",
        currency="EUR",
        shipping_address=BERLIN,
        tax_total=None,
        shipping_total=Decimal("4.90"),
    )
    yen = place_priced(
        seller,
        "SHADE",
        2,
        "1500",
        currency="JPY",
        shipping_address=TOKYO,
        tax_total=None,
        shipping_total=Decimal("250"),
    )
    cancelled = place(seller, [("SHADE", 1)], metadata={})
    order_cancel(seller_id=seller.pk, order_id=cancelled.pk, actor=STAFF, reason="Customer changed their mind")
    return {"mixed": mixed, "pickup": pickup, "euro": euro, "yen": yen, "cancelled": cancelled}


def listed(seller, pk) -> Order:
    """An order as GET /api/v1/orders/ reads it (lines and allocations prefetched)."""
    return order_list(seller_id=seller.pk).get(pk=pk)


def test_the_fast_path_is_the_one_under_test():
    assert order_serializers._render_fast()


def test_the_orders_are_as_varied_as_intended(seller, orders):
    rendered = {name: OrderOutputSerializer(listed(seller, order.pk)).data for name, order in orders.items()}
    mixed = rendered["mixed"]
    assert mixed["billing_address"] and mixed["metadata"] and mixed["channel"] == "pos"
    assert Decimal(mixed["tax_total"]["amount"]) > 0
    assert [line["quantity_backordered"] for line in mixed["lines"]] == [2, 0, 0, 1]
    assert [line["is_preorder"] for line in mixed["lines"]] == [False, False, False, True]
    assert {a["warehouse"] for a in mixed["lines"][1]["allocations"]} == {"EAST", "WEST"}
    assert mixed["lines"][2]["quantity_allocated"] == 2 and len(mixed["lines"][2]["allocations"]) == 2  # the kit
    assert rendered["pickup"]["pickup_location"] == "STORE" and rendered["pickup"]["ready_for_pickup_at"]
    assert rendered["pickup"]["billing_address"] is None
    assert rendered["euro"]["total"]["currency"] == "EUR" and rendered["euro"]["lines"][0]["tax_rate"] == "0.19000"
    assert rendered["yen"]["total"] == {"amount": "3250", "currency": "JPY"}
    assert rendered["cancelled"]["lifecycle"] == "cancelled" and rendered["cancelled"]["cancelled_at"]
    assert rendered["cancelled"]["confirmed_at"] and rendered["cancelled"]["delivered_at"] is None


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_an_order_and_its_lines_render_as_drf_renders_them(seller, orders, zone):
    with timezone.override(zone):
        for placed in orders.values():
            # As the listing and detail read it, and as the placing service hands it over
            # (in-memory values: enum members, unquantized decimals, attached lines).
            for order in (listed(seller, placed.pk), placed):
                assert_same(OrderOutputSerializer(order).data, generic(OrderOutputSerializer, order))
                for line in order.lines.all():
                    assert_same(OrderLineOutputSerializer(line).data, generic(OrderLineOutputSerializer, line))


def test_a_listing_page_renders_as_drf_renders_it(seller, orders):
    fast = OrderOutputSerializer(order_list(seller_id=seller.pk).order_by("-id"), many=True).data
    with drf_generic():
        slow = OrderOutputSerializer(order_list(seller_id=seller.pk).order_by("-id"), many=True).data
    assert len(fast) == len(orders)
    assert_same(list(fast), list(slow))


@pytest.mark.parametrize("name", ["mixed", "pickup", "euro", "yen", "cancelled"])
def test_the_fast_render_reads_nothing_more_than_drf(seller, orders, name):
    pk = orders[name].pk
    for fetch in (lambda: listed(seller, pk), lambda: Order.objects.get(pk=pk)):  # prefetched, and not
        fast_order, slow_order = fetch(), fetch()
        with CaptureQueriesContext(connection) as fast:
            rendered = OrderOutputSerializer(fast_order).data
        with drf_generic(), CaptureQueriesContext(connection) as slow:
            oracle = serializers.ModelSerializer.to_representation(OrderOutputSerializer(), slow_order)
        assert rendered == oracle
        assert len(fast) == len(slow), [q["sql"] for q in fast.captured_queries]
    # A listed order renders from its prefetched rows; only a pickup location is read.
    order = listed(seller, pk)
    with CaptureQueriesContext(connection) as fast:
        rendered = OrderOutputSerializer(order).data
    assert rendered["lines"] and len(fast) == (1 if name == "pickup" else 0)
