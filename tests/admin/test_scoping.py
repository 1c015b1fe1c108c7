"""A staff user sees and changes only their sellers' rows, everywhere in the admin."""

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse

from core.models import OutboxEvent
from inventory.admin import StockAdmin
from inventory.models import Product, Stock, StockLedgerEntry, Warehouse
from orders.models import Order, OrderEvent
from sellers.models import ApiKey, Seller, StaffRole
from sellers.services import api_key_create
from tests.factories import (
    MembershipFactory,
    ProductFactory,
    SellerFactory,
    UserFactory,
    WarehouseFactory,
    place,
    stocked,
)


@dataclass
class Tenant:
    seller: Seller
    product: Product
    warehouse: Warehouse
    stock: Stock
    order: Order
    api_key: ApiKey

    @property
    def ledger_entry(self) -> StockLedgerEntry:
        return self.stock.ledger.get()


def make_tenant(tag: str) -> Tenant:
    seller = SellerFactory(name=f"Shop {tag}")
    product = ProductFactory(seller=seller, sku=f"SKU-{tag}", name=f"Product {tag}")
    warehouse = WarehouseFactory(seller=seller, code=f"WH-{tag}", name=f"Warehouse {tag}")
    stock = stocked(product, warehouse, 10)
    order = place(seller, [(product.sku, 1)], customer_email=f"buyer-{tag.lower()}@example.com")
    api_key = api_key_create(seller=seller, name=f"Key {tag}").api_key
    return Tenant(seller, product, warehouse, stock, order, api_key)


@pytest.fixture
def tenant_a(db):
    return make_tenant("AAA")


@pytest.fixture
def tenant_b(db):
    return make_tenant("BBB")


def member(seller, role=StaffRole.MANAGER):
    return MembershipFactory(seller=seller, role=role).user


@pytest.fixture
def manager_a(client, tenant_a):
    user = member(tenant_a.seller)
    client.force_login(user)
    return user


# (changelist name, attribute path to the row, text that appears only for that tenant)
CHANGELISTS = [
    ("orders_order", "order", lambda t: t.order.customer_email),
    ("inventory_product", "product", lambda t: t.product.sku),
    ("inventory_warehouse", "warehouse", lambda t: t.warehouse.code),
    ("inventory_stock", "stock", lambda t: t.product.sku),
    ("inventory_stockledgerentry", "ledger_entry", lambda t: t.product.sku),
    ("sellers_apikey", "api_key", lambda t: t.api_key.name),
    ("sellers_seller", "seller", lambda t: t.seller.name),
]


@pytest.mark.parametrize(("url_name", "row", "marker"), CHANGELISTS, ids=[c[0] for c in CHANGELISTS])
def test_changelist_shows_only_the_users_sellers(client, tenant_a, tenant_b, manager_a, url_name, row, marker):
    response = client.get(reverse(f"admin:{url_name}_changelist"))

    assert response.status_code == 200
    content = response.content.decode()
    assert marker(tenant_a) in content
    assert marker(tenant_b) not in content
    assert list(response.context["cl"].queryset) == [getattr(tenant_a, row)]


@pytest.mark.parametrize(("url_name", "row", "marker"), CHANGELISTS, ids=[c[0] for c in CHANGELISTS])
def test_superuser_sees_both_sellers(admin_client, tenant_a, tenant_b, url_name, row, marker):
    response = admin_client.get(reverse(f"admin:{url_name}_changelist"))

    assert response.status_code == 200
    content = response.content.decode()
    assert marker(tenant_a) in content
    assert marker(tenant_b) in content
    assert set(response.context["cl"].queryset) == {getattr(tenant_a, row), getattr(tenant_b, row)}


@pytest.mark.parametrize(("url_name", "row", "marker"), CHANGELISTS, ids=[c[0] for c in CHANGELISTS])
def test_another_sellers_object_does_not_exist(client, tenant_a, tenant_b, manager_a, url_name, row, marker):
    url = reverse(f"admin:{url_name}_change", args=[getattr(tenant_b, row).pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    followed = client.get(response.url)
    assert any("doesn’t exist" in str(m) for m in get_messages(followed.wsgi_request))
    assert marker(tenant_b) not in followed.content.decode()


def test_another_sellers_object_history_does_not_exist(client, tenant_a, tenant_b, manager_a):
    response = client.get(reverse("admin:inventory_product_history", args=[tenant_b.product.pk]))

    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_posting_to_another_sellers_product_changes_nothing(client, tenant_a, tenant_b, manager_a):
    url = reverse("admin:inventory_product_change", args=[tenant_b.product.pk])

    response = client.post(url, {"name": "Hijacked", "sku": tenant_b.product.sku, "price_0": "1", "price_1": "USD"})

    assert response.status_code == 302
    tenant_b.product.refresh_from_db()
    assert tenant_b.product.name == "Product BBB"


def test_product_add_form_offers_only_the_users_seller_preselected(client, tenant_a, tenant_b, manager_a):
    response = client.get(reverse("admin:inventory_product_add"))

    assert response.status_code == 200
    seller_field = response.context["adminform"].form.fields["seller"]
    assert list(seller_field.queryset) == [tenant_a.seller]
    assert seller_field.initial == tenant_a.seller.pk
    assert "Shop BBB" not in response.content.decode()


def test_add_form_offers_only_sellers_where_the_role_may_add(client, tenant_a, tenant_b):
    user = member(tenant_a.seller, StaffRole.OWNER)
    MembershipFactory(user=user, seller=tenant_b.seller, role=StaffRole.STAFF)
    client.force_login(user)

    response = client.get(reverse("admin:inventory_warehouse_add"))

    seller_field = response.context["adminform"].form.fields["seller"]
    assert list(seller_field.queryset) == [tenant_a.seller]


def test_adding_a_product_for_another_seller_is_refused(client, tenant_a, tenant_b, manager_a):
    response = client.post(
        reverse("admin:inventory_product_add"),
        {
            "seller": tenant_b.seller.pk,
            "sku": "SMUGGLED",
            "name": "Smuggled",
            "price_0": "5.00",
            "price_1": "USD",
            "weight_grams": 0,
            "length_mm": 0,
            "width_mm": 0,
            "height_mm": 0,
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "seller" in response.context["adminform"].form.errors
    assert not Product.objects.filter(sku="SMUGGLED").exists()


# The product form's selling fields and its (empty) kit components inline.
PRODUCT_FORM_REST = {
    "tax_class": "standard",
    "kind": "simple",
    "backorder_policy": "deny",
    "restricted_countries": "[]",
    "components-TOTAL_FORMS": "0",
    "components-INITIAL_FORMS": "0",
}


def test_adding_a_product_for_the_users_seller_works(client, tenant_a, tenant_b, manager_a):
    response = client.post(
        reverse("admin:inventory_product_add"),
        {
            "seller": tenant_a.seller.pk,
            "sku": "NEW-1",
            "name": "New",
            "price_0": "5.00",
            "price_1": "USD",
            "weight_grams": 0,
            "length_mm": 0,
            "width_mm": 0,
            "height_mm": 0,
            "is_active": "on",
            **PRODUCT_FORM_REST,
        },
    )

    assert response.status_code == 302
    assert Product.objects.get(sku="NEW-1").seller == tenant_a.seller


def test_foreign_key_choices_offer_only_the_users_rows(tenant_a, tenant_b, manager_a):
    request = RequestFactory().get("/admin/")
    request.user = manager_a
    stock_admin = admin.site.get_model_admin(Stock)
    assert isinstance(stock_admin, StockAdmin)

    product_field = stock_admin.formfield_for_foreignkey(Stock._meta.get_field("product"), request)
    warehouse_field = stock_admin.formfield_for_foreignkey(Stock._meta.get_field("warehouse"), request)

    assert list(product_field.queryset) == [tenant_a.product]
    assert list(warehouse_field.queryset) == [tenant_a.warehouse]


def test_adjust_stock_form_offers_only_the_users_warehouses(client, tenant_a, tenant_b, manager_a):
    response = client.get(reverse("admin:inventory_stock_adjust"))

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.fields["warehouse"].queryset) == [tenant_a.warehouse]
    assert list(form.fields["product"].queryset) == [tenant_a.product]
    content = response.content.decode()
    assert "WH-AAA" in content
    assert "WH-BBB" not in content


def test_product_autocomplete_returns_only_the_users_products(client, tenant_a, tenant_b, manager_a):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "inventory", "model_name": "stock", "field_name": "product", "term": "SKU"},
    )

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(tenant_a.product.pk)]


def test_seller_autocomplete_returns_only_the_users_sellers(client, tenant_a, tenant_b, manager_a):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "inventory", "model_name": "product", "field_name": "seller", "term": "Shop"},
    )

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(tenant_a.seller.pk)]


def test_user_autocomplete_is_refused_to_staff(client, tenant_a, manager_a):
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "sellers", "model_name": "staffmembership", "field_name": "user", "term": "user"},
    )

    assert response.status_code == 403


def test_seller_filter_lists_only_the_users_sellers(client, tenant_a, tenant_b, manager_a):
    # A filter with a single choice is not shown, so the user gets a second seller.
    tenant_c = make_tenant("CCC")
    MembershipFactory(user=manager_a, seller=tenant_c.seller, role=StaffRole.VIEWER)

    response = client.get(reverse("admin:orders_order_changelist"))

    seller_filter = next(f for f in response.context["cl"].filter_specs if f.title == "seller")
    assert seller_filter.lookup_choices == [(tenant_a.seller.pk, "Shop AAA"), (tenant_c.seller.pk, "Shop CCC")]
    assert "Shop BBB" not in response.content.decode()


def test_warehouse_filter_lists_only_the_users_warehouses(client, tenant_a, tenant_b, manager_a):
    second = WarehouseFactory(seller=tenant_a.seller, code="WH-AAA-2")
    stocked(tenant_a.product, second, 1)

    response = client.get(reverse("admin:inventory_stockledgerentry_changelist"))

    warehouse_filter = next(f for f in response.context["cl"].filter_specs if f.title == "warehouse")
    assert {pk for pk, _ in warehouse_filter.lookup_choices} == {tenant_a.warehouse.pk, second.pk}
    assert "WH-BBB" not in response.content.decode()


def test_filtering_by_another_seller_shows_nothing(client, tenant_a, tenant_b, manager_a):
    response = client.get(reverse("admin:orders_order_changelist"), {"seller__id__exact": tenant_b.seller.pk})

    assert list(response.context["cl"].queryset) == []
    assert tenant_b.order.customer_email not in response.content.decode()


def test_viewer_cannot_change_a_product(client, tenant_a):
    client.force_login(member(tenant_a.seller, StaffRole.VIEWER))
    url = reverse("admin:inventory_product_change", args=[tenant_a.product.pk])

    page = client.get(url)
    response = client.post(url, {"name": "Changed", "sku": "SKU-AAA", "price_0": "1.00", "price_1": "USD"})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert response.status_code == 403
    tenant_a.product.refresh_from_db()
    assert tenant_a.product.name == "Product AAA"


def test_viewer_cannot_add(client, tenant_a):
    client.force_login(member(tenant_a.seller, StaffRole.VIEWER))

    assert client.get(reverse("admin:inventory_product_add")).status_code == 403
    assert client.get(reverse("admin:sellers_apikey_add")).status_code == 403


def test_staff_role_changes_but_does_not_add_products(client, tenant_a):
    client.force_login(member(tenant_a.seller, StaffRole.STAFF))
    url = reverse("admin:inventory_product_change", args=[tenant_a.product.pk])

    response = client.post(
        url,
        {
            "sku": "SKU-AAA",
            "name": "Renamed",
            "price_0": "12.00",
            "price_1": "USD",
            "weight_grams": 500,
            "length_mm": 0,
            "width_mm": 0,
            "height_mm": 0,
            "is_active": "on",
            **PRODUCT_FORM_REST,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    tenant_a.product.refresh_from_db()
    assert tenant_a.product.name == "Renamed"
    assert tenant_a.product.seller == tenant_a.seller
    assert client.get(reverse("admin:inventory_product_add")).status_code == 403


def test_role_for_one_seller_does_not_carry_to_another(client, tenant_a, tenant_b):
    user = member(tenant_a.seller, StaffRole.MANAGER)
    MembershipFactory(user=user, seller=tenant_b.seller, role=StaffRole.VIEWER)
    client.force_login(user)

    own = client.get(reverse("admin:inventory_product_change", args=[tenant_a.product.pk]))
    viewed = client.get(reverse("admin:inventory_product_change", args=[tenant_b.product.pk]))

    assert own.context["has_change_permission"] is True
    assert viewed.context["has_change_permission"] is False


def test_staff_without_membership_sees_nothing(client, tenant_a):
    client.force_login(UserFactory(is_staff=True))

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200
    assert index.context["app_list"] == []
    assert client.get(reverse("admin:orders_order_changelist")).status_code == 403
    assert client.get(reverse("admin:inventory_product_changelist")).status_code == 403


def test_index_lists_the_apps_a_member_can_use(client, tenant_a, manager_a):
    index = client.get(reverse("admin:index"))

    models = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert models == {
        "Seller",
        "ApiKey",
        "Product",
        "Warehouse",
        "Stock",
        "StockLedgerEntry",
        "Order",
        "HeldOrder",
        "RiskRule",
        "OrderPolicy",
        "WebhookSubscription",
        "WebhookDelivery",
        "Payment",
        "StripeEvent",
        "StripeAccount",
        "Invoice",
        "CreditNote",
        "TaxRate",
        "ExchangeRate",
        "SalesReport",
        "Shipment",
        "PickWave",
        "CarrierAccount",
        "ShippingZone",
    }


def test_outbox_is_for_superusers_only(client, admin_client, tenant_a, manager_a):
    event = OutboxEvent.objects.first()
    assert event is not None

    assert client.get(reverse("admin:core_outboxevent_changelist")).status_code == 403
    assert admin_client.get(reverse("admin:core_outboxevent_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:core_outboxevent_change", args=[event.pk])).status_code == 200
    assert admin_client.get(reverse("admin:core_outboxevent_delete", args=[event.pk])).status_code == 403


@pytest.mark.parametrize(
    ("url_name", "row"),
    [
        ("orders_order", "order"),
        ("inventory_stock", "stock"),
        ("inventory_stockledgerentry", "ledger_entry"),
        ("sellers_apikey", "api_key"),
    ],
)
def test_audit_trail_rows_cannot_be_deleted_even_by_a_superuser(admin_client, tenant_a, url_name, row):
    obj = getattr(tenant_a, row)

    response = admin_client.post(reverse(f"admin:{url_name}_delete", args=[obj.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_order_events_have_no_admin_of_their_own(tenant_a):
    assert not admin.site.is_registered(OrderEvent)
