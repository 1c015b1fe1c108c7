"""Products, stock and the ledger in the admin: quantities change only through the
stock services, the ledger is read-only, and lists cost a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actor import Actor
from inventory.models import LedgerKind, Stock, StockLedgerEntry
from inventory.services import StockLine, stock_receive, stock_reserve
from sellers.models import StaffRole
from tests.factories import MembershipFactory, ProductFactory, WarehouseFactory, stocked

ADJUST = reverse("admin:inventory_stock_adjust")


@pytest.fixture
def stock(seller):
    return stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller, code="EAST"), 10)


def login_member(client, seller, role=StaffRole.STAFF):
    user = MembershipFactory(seller=seller, role=role).user
    client.force_login(user)
    return user


def no_ledger_forms() -> dict:
    return {"ledger-TOTAL_FORMS": "0", "ledger-INITIAL_FORMS": "0"}


def test_staff_sets_the_bin_location_and_nothing_else(client, seller, stock):
    login_member(client, seller)
    stock_reserve(lines=[StockLine(stock.product_id, stock.warehouse_id, 3)])

    response = client.post(
        reverse("admin:inventory_stock_change", args=[stock.pk]),
        {"bin_location": "A-01-3", "on_hand": "999", "allocated": "0", **no_ledger_forms()},
    )

    assert response.status_code == 302
    stock.refresh_from_db()
    assert (stock.bin_location, stock.on_hand, stock.allocated) == ("A-01-3", 10, 3)
    assert stock.ledger.count() == 1


def test_viewer_cannot_change_stock(client, seller, stock):
    login_member(client, seller, StaffRole.VIEWER)

    response = client.post(
        reverse("admin:inventory_stock_change", args=[stock.pk]), {"bin_location": "X", **no_ledger_forms()}
    )

    assert response.status_code == 403
    stock.refresh_from_db()
    assert stock.bin_location == ""
    assert client.get(ADJUST).status_code == 403


def test_stock_rows_are_not_added_in_the_admin(client, admin_client, seller):
    login_member(client, seller, StaffRole.OWNER)

    assert client.get(reverse("admin:inventory_stock_add")).status_code == 403
    assert admin_client.get(reverse("admin:inventory_stock_add")).status_code == 403


def test_adjust_goes_through_the_service_with_the_reason_and_the_staff_actor(client, seller, stock):
    user = login_member(client, seller)

    response = client.post(
        ADJUST, {"product": stock.product_id, "warehouse": stock.warehouse_id, "delta": "-2", "reason": "Dropped"}
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:inventory_stock_change", args=[stock.pk])
    stock.refresh_from_db()
    assert stock.on_hand == 8
    entry = stock.ledger.first()
    assert (entry.kind, entry.quantity, entry.balance_after, entry.reason) == (LedgerKind.ADJUSTMENT, -2, 8, "Dropped")
    assert (entry.actor_kind, entry.actor_user_id) == ("staff", user.pk)


def test_adjust_needs_a_reason_and_a_change(client, seller, stock):
    login_member(client, seller)

    response = client.post(
        ADJUST, {"product": stock.product_id, "warehouse": stock.warehouse_id, "delta": "0", "reason": ""}
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"delta", "reason"}
    assert stock.ledger.count() == 1


# The stock services join the caller's transaction without a savepoint; the admin view
# has none of its own (as in production), so neither may the test.
@pytest.mark.django_db(transaction=True)
def test_adjust_refused_by_the_service_shows_its_message(client, seller, stock):
    login_member(client, seller)

    response = client.post(
        ADJUST, {"product": stock.product_id, "warehouse": stock.warehouse_id, "delta": "-11", "reason": "Lost"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["On hand would be -1 with 0 allocated."]
    stock.refresh_from_db()
    assert stock.on_hand == 10


def test_adjust_cannot_reach_another_sellers_stock(client, seller, other_seller, stock):
    foreign = stocked(ProductFactory(seller=other_seller), WarehouseFactory(seller=other_seller), 5)
    login_member(client, seller)

    response = client.post(
        ADJUST, {"product": foreign.product_id, "warehouse": foreign.warehouse_id, "delta": "-5", "reason": "Gone"}
    )

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"product", "warehouse"}
    foreign.refresh_from_db()
    assert foreign.on_hand == 5
    prefilled = client.get(ADJUST, {"stock": foreign.pk})
    assert prefilled.context["form"].initial == {}


def test_adjust_refuses_a_product_and_warehouse_of_different_sellers(client, seller, other_seller, stock):
    user = login_member(client, seller)
    MembershipFactory(user=user, seller=other_seller, role=StaffRole.STAFF)
    foreign_warehouse = WarehouseFactory(seller=other_seller)

    response = client.post(
        ADJUST, {"product": stock.product_id, "warehouse": foreign_warehouse.pk, "delta": "4", "reason": "Found"}
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The product and the warehouse belong to different sellers."]
    assert not Stock.objects.filter(warehouse=foreign_warehouse).exists()


def test_the_adjust_link_prefills_the_stock_row(client, seller, stock):
    login_member(client, seller)

    page = client.get(reverse("admin:inventory_stock_change", args=[stock.pk]))
    form = client.get(ADJUST, {"stock": stock.pk}).context["form"]

    assert f"{ADJUST}?stock={stock.pk}" in page.content.decode()
    assert form.initial == {"product": stock.product_id, "warehouse": stock.warehouse_id}


def test_stock_page_shows_the_latest_ledger_entries_newest_first(client, seller, stock):
    for n in range(54):
        stock_receive(
            product=stock.product, warehouse=stock.warehouse, quantity=1, actor=Actor.system(), reference=f"po:{n}"
        )
    login_member(client, seller, StaffRole.VIEWER)

    page = client.get(reverse("admin:inventory_stock_change", args=[stock.pk]))

    ledger = next(f for f in page.context["inline_admin_formsets"] if f.formset.model is StockLedgerEntry)
    shown = [form.instance.reference for form in ledger.formset.forms]
    assert len(shown) == 50
    assert shown[:2] == ["po:53", "po:52"]


def test_ledger_entries_are_read_only_for_everyone(admin_client, stock):
    entry = stock.ledger.get()
    url = reverse("admin:inventory_stockledgerentry_change", args=[entry.pk])

    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"reason": "rewritten"}).status_code == 403
    assert admin_client.get(reverse("admin:inventory_stockledgerentry_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.reason == ""


def test_ledger_search_by_sku_and_reference(client, seller, stock):
    other = stocked(ProductFactory(seller=seller, sku="PLATE"), stock.warehouse, 2)
    stock_receive(product=other.product, warehouse=other.warehouse, quantity=1, actor=Actor.system(), reference="po:77")
    login_member(client, seller)
    changelist = reverse("admin:inventory_stockledgerentry_changelist")

    by_sku = client.get(changelist, {"q": "MUG"}).context["cl"].queryset
    by_reference = client.get(changelist, {"q": "po:77"}).context["cl"].queryset

    assert [e.stock_id for e in by_sku] == [stock.pk]
    assert [e.reference for e in by_reference] == ["po:77"]


def test_product_list_shows_available_units_of_active_warehouses(client, seller, stock):
    closed = WarehouseFactory(seller=seller, code="CLOSED", is_active=False)
    stocked(stock.product, closed, 100)
    stock_reserve(lines=[StockLine(stock.product_id, stock.warehouse_id, 4)])
    ProductFactory(seller=seller, sku="EMPTY")
    login_member(client, seller)

    response = client.get(reverse("admin:inventory_product_changelist"))

    available = {p.sku: p.available_units for p in response.context["cl"].result_list}
    assert available == {"MUG": 6, "EMPTY": 0}


def test_product_list_query_count_does_not_grow_with_the_page(client, seller):
    warehouse = WarehouseFactory(seller=seller)
    stocked(ProductFactory(seller=seller), warehouse, 1)
    login_member(client, seller)
    url = reverse("admin:inventory_product_changelist")
    with CaptureQueriesContext(connection) as one_product:
        client.get(url)
    for _ in range(20):
        stocked(ProductFactory(seller=seller), warehouse, 1)

    with CaptureQueriesContext(connection) as many_products:
        response = client.get(url)

    assert response.context["cl"].result_count == 21
    assert len(many_products) == len(one_product)


def test_warehouse_shipping_days_are_ticked_in_the_admin_and_at_least_one_is_required(client, seller):
    warehouse = WarehouseFactory(seller=seller, code="EAST")
    login_member(client, seller, role=StaffRole.MANAGER)
    url = reverse("admin:inventory_warehouse_change", args=[warehouse.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["adminform"].form["shipping_days"].value() == [1, 2, 3, 4, 5, 6, 7]
    assert 'type="checkbox" name="shipping_days" value="7"' in page.content.decode()

    def post(days):
        return client.post(
            url,
            {
                "seller": seller.pk,
                "code": "EAST",
                "name": warehouse.name,
                "is_active": "on",
                "priority": 100,
                "address_line1": warehouse.address_line1,
                "city": warehouse.city,
                "postal_code": warehouse.postal_code,
                "country": "US",
                "ships_to": "[]",
                "handling_cost_0": "0",
                "handling_cost_1": "USD",
                "cutoff_time": "15:00",
                "shipping_days": days,
            },
        )

    assert post(["5", "1", "3"]).status_code == 302
    warehouse.refresh_from_db()
    assert warehouse.shipping_days == [1, 3, 5]

    refused = post([])
    assert refused.status_code == 200
    assert "shipping_days" in refused.context["adminform"].form.errors
    warehouse.refresh_from_db()
    assert warehouse.shipping_days == [1, 3, 5]
