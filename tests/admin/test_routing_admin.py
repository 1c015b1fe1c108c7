"""Routing in the admin: the explanation on the order page, the staff override, the dry
run tool, closing a warehouse, and click-and-collect readiness."""

import pytest
from django.urls import reverse

from core.models import OutboxEvent
from inventory.models import Stock, Warehouse
from orders.models import Allocation, EventType
from sellers.models import StaffRole
from tests.factories import MembershipFactory, ProductFactory, SellerFactory, WarehouseFactory, place, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    seller = SellerFactory(name="Northwind")
    lamp = ProductFactory(seller=seller, sku="LAMP")
    east = WarehouseFactory(seller=seller, code="EAST", latitude="40.7357", longitude="-74.1724", priority=1)
    west = WarehouseFactory(seller=seller, code="WEST", latitude="34.0522", longitude="-118.2437", priority=2)
    stocked(lamp, east, 5)
    stocked(lamp, west, 5)
    return seller, lamp, east, west


def login(client, seller, role=StaffRole.STAFF):
    client.force_login(MembershipFactory(seller=seller, role=role).user)


def test_the_order_page_explains_its_routing_and_links_to_the_override(client, shop):
    seller, _, _, _ = shop
    order = place(seller, [("LAMP", 2)])
    login(client, seller)

    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Why these warehouses" in html and "fills the whole order in one shipment" in html
    assert "<td>EAST</td><td>yes</td>" in html and "<td>WEST</td><td>—</td>" in html
    assert reverse("admin:orders_order_allocation", args=[order.pk]) in html


def test_staff_move_a_line_to_another_warehouse_from_the_admin(client, shop):
    seller, lamp, east, west = shop
    order = place(seller, [("LAMP", 2)])
    line = order.lines.get()
    login(client, seller)
    url = reverse("admin:orders_order_allocation", args=[order.pk])

    form = client.get(url)
    assert form.status_code == 200 and "WEST (5 available)" in form.content.decode()
    done = client.post(url, {f"line_{line.pk}": west.pk, "reason": "closer to the customer's office"}, follow=True)

    assert done.redirect_chain[-1][0] == reverse("admin:orders_order_change", args=[order.pk])
    assert [a.stock.warehouse.code for a in Allocation.objects.filter(line=line)] == ["WEST"]
    event = order.events.get(type=EventType.ALLOCATION_OVERRIDDEN)
    assert event.actor_kind == "staff" and event.data["reason"] == "closer to the customer's office"


def test_an_override_the_warehouse_cannot_take_shows_why_and_changes_nothing(client, shop):
    seller, lamp, east, west = shop
    order = place(seller, [("LAMP", 2)])
    line = order.lines.get()
    Stock.objects.filter(product=lamp, warehouse=west).update(allocated=4)  # only 1 free there
    login(client, seller)

    page = client.post(reverse("admin:orders_order_allocation", args=[order.pk]), {f"line_{line.pk}": west.pk})

    assert page.status_code == 200 and "Not enough stock" in page.content.decode()
    assert [a.stock.warehouse.code for a in Allocation.objects.filter(line=line)] == ["EAST"]


def test_other_sellers_staff_and_viewers_cannot_override(client, shop):
    seller, lamp, east, west = shop
    order = place(seller, [("LAMP", 1)])
    url = reverse("admin:orders_order_allocation", args=[order.pk])

    login(client, SellerFactory(name="Other"))
    assert client.get(url).status_code == 404
    login(client, seller, role=StaffRole.VIEWER)
    assert client.get(url).status_code == 403


def test_the_dry_run_tool_shows_a_route_and_writes_nothing(client, shop):
    seller, lamp, east, west = shop
    login(client, seller)
    url = reverse("admin:inventory_routing_dry_run")
    outbox = OutboxEvent.objects.count()

    page = client.post(url, {"seller": seller.pk, "lines": "LAMP 7", "country": "us", "postal_code": "90012"})

    html = page.content.decode()
    assert page.status_code == 200 and 'id="routing-preview"' in html
    assert "located by postal_code" in html and "WEST" in html and "EAST" in html  # 7 takes both
    assert OutboxEvent.objects.count() == outbox and not Stock.objects.filter(allocated__gt=0).exists()
    unknown = client.post(url, {"seller": seller.pk, "lines": "NOPE 1", "country": "US"})
    assert "Unknown SKU" in unknown.content.decode()
    assert (
        reverse("admin:inventory_routing_dry_run")
        in client.get(reverse("admin:inventory_warehouse_changelist")).content.decode()
    )


def test_the_dry_run_lists_only_the_users_sellers(client, shop):
    seller, *_ = shop
    SellerFactory(name="Somebody else")
    login(client, seller)

    page = client.get(reverse("admin:inventory_routing_dry_run"))

    assert "Northwind" in page.content.decode() and "Somebody else" not in page.content.decode()


def test_closing_a_warehouse_in_the_admin_goes_through_the_service(client, shop):
    seller, lamp, east, west = shop
    login(client, seller, role=StaffRole.MANAGER)

    client.post(
        reverse("admin:inventory_warehouse_changelist"),
        {"action": "close_for_routing", "_selected_action": [east.pk], "index": 0},
    )

    assert not Warehouse.objects.get(pk=east.pk).is_active
    assert OutboxEvent.objects.filter(topic="warehouse.deactivated", payload__warehouse_id=east.pk).exists()


def test_ready_for_pickup_from_the_orders_list(client, shop):
    seller, lamp, east, west = shop
    WarehouseFactory(seller=seller, code="STORE", is_pickup_location=True)
    store = Warehouse.objects.get(code="STORE")
    stocked(lamp, store, 1)
    order = place(seller, [("LAMP", 1)], delivery_method="pickup", pickup_location="STORE")
    login(client, seller)

    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "mark_ready_for_pickup", "_selected_action": [order.pk], "index": 0},
    )

    order.refresh_from_db()
    assert order.ready_for_pickup_at is not None
    assert order.events.filter(type=EventType.READY_FOR_PICKUP).exists()
