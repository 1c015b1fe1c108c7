"""Orders in the admin: read-only pages, actions that go through the services, and a
changelist whose query count does not grow with the page."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actor import Actor
from inventory.models import Stock
from orders.models import EventType, Order, OrderEvent
from orders.services import order_transition
from orders.status import Lifecycle
from sellers.models import StaffRole
from tests.factories import MembershipFactory, ProductFactory, SellerFactory, WarehouseFactory, place, stocked

CHANGELIST = reverse("admin:orders_order_changelist")


def shop(name: str, units: int = 50):
    seller = SellerFactory(name=name)
    product = ProductFactory(seller=seller, sku=f"{name}-MUG")
    warehouse = WarehouseFactory(seller=seller, code=f"{name}-WH")
    stocked(product, warehouse, units)
    return seller, product, warehouse


@pytest.fixture
def shop_a(db):
    return shop("A")


@pytest.fixture
def shop_b(db):
    return shop("B")


def login_member(client, seller, role=StaffRole.STAFF):
    user = MembershipFactory(seller=seller, role=role).user
    client.force_login(user)
    return user


def run_action(client, action: str, *orders: Order):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [o.pk for o in orders], "index": 0}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_cancel_action_cancels_the_users_order_through_the_service(client, shop_a):
    seller, product, warehouse = shop_a
    order = place(seller, [(product.sku, 3)])
    user = login_member(client, seller)

    response = run_action(client, "cancel_orders", order)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.CANCELLED
    assert Stock.objects.get(product=product, warehouse=warehouse).allocated == 0
    cancelled = order.events.get(type=EventType.STATUS_CHANGED, data__after=Lifecycle.CANCELLED)
    assert (cancelled.actor_kind, cancelled.actor_user_id, cancelled.actor_label) == ("staff", user.pk, user.username)
    assert order.events.get(type=EventType.STOCK_RELEASED).actor_kind == "staff"
    assert messages_of(response) == [f"Cancelled 1 order(s): #{order.number}."]


def test_cancel_action_cannot_touch_another_sellers_order(client, shop_a, shop_b):
    order_b = place(shop_b[0], [(shop_b[1].sku, 2)])
    events_before = OrderEvent.objects.filter(order=order_b).count()
    login_member(client, shop_a[0])

    run_action(client, "cancel_orders", order_b)

    order_b.refresh_from_db()
    assert order_b.lifecycle == Lifecycle.CONFIRMED
    assert Stock.objects.get(product=shop_b[1]).allocated == 2
    assert OrderEvent.objects.filter(order=order_b).count() == events_before


def test_cancel_action_on_a_mixed_selection_cancels_only_the_users_order(client, shop_a, shop_b):
    order_a = place(shop_a[0], [(shop_a[1].sku, 1)])
    order_b = place(shop_b[0], [(shop_b[1].sku, 1)])
    login_member(client, shop_a[0])

    run_action(client, "cancel_orders", order_a, order_b)

    order_a.refresh_from_db()
    order_b.refresh_from_db()
    assert order_a.lifecycle == Lifecycle.CANCELLED
    assert order_b.lifecycle == Lifecycle.CONFIRMED


def test_a_refused_cancel_becomes_an_error_message_and_the_rest_go_through(client, shop_a):
    seller, product, _ = shop_a
    done = place(seller, [(product.sku, 1)])
    open_order = place(seller, [(product.sku, 1)])
    order_transition(seller_id=seller.pk, order_id=done.pk, to=Lifecycle.IN_FULFILLMENT, actor=Actor.system())
    order_transition(seller_id=seller.pk, order_id=done.pk, to=Lifecycle.COMPLETED, actor=Actor.system())
    login_member(client, seller)

    response = run_action(client, "cancel_orders", done, open_order)

    assert response.status_code == 200
    done.refresh_from_db()
    open_order.refresh_from_db()
    assert done.lifecycle == Lifecycle.COMPLETED
    assert open_order.lifecycle == Lifecycle.CANCELLED
    assert messages_of(response) == [
        f"Order #{done.number} (A): An order that is completed cannot become cancelled.",
        f"Cancelled 1 order(s): #{open_order.number}.",
    ]


def test_viewer_in_one_seller_cannot_cancel_its_orders_through_a_role_in_another(client, shop_a, shop_b):
    order_b = place(shop_b[0], [(shop_b[1].sku, 1)])
    user = login_member(client, shop_a[0], StaffRole.MANAGER)
    MembershipFactory(user=user, seller=shop_b[0], role=StaffRole.VIEWER)

    response = run_action(client, "cancel_orders", order_b)

    order_b.refresh_from_db()
    assert order_b.lifecycle == Lifecycle.CONFIRMED
    assert messages_of(response) == ["1 of the selected orders skipped: your role does not allow this."]


def test_viewer_is_not_offered_the_actions(client, shop_a):
    order = place(shop_a[0], [(shop_a[1].sku, 1)])
    login_member(client, shop_a[0], StaffRole.VIEWER)

    page = client.get(CHANGELIST)
    run_action(client, "cancel_orders", order)

    assert page.context["action_form"] is None
    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.CONFIRMED


def test_confirm_action_confirms_an_order_on_hold(client, shop_a):
    seller, product, _ = shop_a
    order = place(seller, [(product.sku, 1)])
    order_transition(seller_id=seller.pk, order_id=order.pk, to=Lifecycle.ON_HOLD, actor=Actor.system())
    user = login_member(client, seller)

    response = run_action(client, "confirm_orders", order)

    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.CONFIRMED
    confirmed = order.events.filter(type=EventType.STATUS_CHANGED).latest("id")
    assert confirmed.data == {"field": "lifecycle", "before": Lifecycle.ON_HOLD, "after": Lifecycle.CONFIRMED}
    assert confirmed.actor_user_id == user.pk
    assert messages_of(response) == [f"Confirmed 1 order(s): #{order.number}."]


def test_order_page_is_read_only_and_shows_lines_and_timeline(client, shop_a):
    seller, product, _ = shop_a
    order = place(seller, [(product.sku, 2)], customer_name="Ada Lovelace")
    login_member(client, seller, StaffRole.OWNER)
    url = reverse("admin:orders_order_change", args=[order.pk])

    page = client.get(url)
    post = client.post(url, {"customer_name": "Changed"})

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    content = page.content.decode()
    assert "2 × A-WH" in content
    assert "Order placed" in content
    assert "Stock allocated" in content
    assert post.status_code == 403
    order.refresh_from_db()
    assert order.customer_name == "Ada Lovelace"


def test_orders_cannot_be_added_or_deleted(client, admin_client, shop_a):
    order = place(shop_a[0], [(shop_a[1].sku, 1)])
    login_member(client, shop_a[0], StaffRole.OWNER)

    assert client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()


def test_search_by_number_and_email(client, shop_a):
    seller, product, _ = shop_a
    first = place(seller, [(product.sku, 1)], customer_email="first@example.com")
    second = place(seller, [(product.sku, 1)], customer_email="second@example.com")
    login_member(client, seller)

    by_number = client.get(CHANGELIST, {"q": str(second.number)})
    by_email = client.get(CHANGELIST, {"q": "first@"})
    by_text = client.get(CHANGELIST, {"q": "no-such-order"})

    assert list(by_number.context["cl"].queryset) == [second]
    assert list(by_email.context["cl"].queryset) == [first]
    assert list(by_text.context["cl"].queryset) == []


def changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_order_changelist_query_count_does_not_grow_with_the_page(client, shop_a, django_assert_max_num_queries):
    seller, product, _ = shop_a
    login_member(client, seller)
    for _ in range(3):
        place(seller, [(product.sku, 1)])
    with_three = changelist_queries(client)
    for _ in range(27):
        place(seller, [(product.sku, 1)])

    with django_assert_max_num_queries(8):
        response = client.get(CHANGELIST)

    assert response.context["cl"].result_count == 30
    assert changelist_queries(client) == with_three
