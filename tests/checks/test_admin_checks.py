"""The holds queue and the checks' settings in the admin, scoped to the user's sellers."""

import pytest
from django.urls import reverse

from orders.models import HoldResolution, OrderHold, OrderPolicy, RiskRule, RiskRuleKind
from orders.status import Lifecycle
from sellers.models import StaffRole
from tests.checks.conftest import enable
from tests.factories import MembershipFactory, ProductFactory, SellerFactory, WarehouseFactory, place, stocked

QUEUE = reverse("admin:orders_heldorder_changelist")


def held_shop(name: str):
    seller = SellerFactory(name=name)
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 50)
    enable(seller, RiskRuleKind.VELOCITY_EMAIL, max_orders=1)
    confirmed = place(seller, [("MUG", 1)], customer_email=f"{name}@example.com")
    held = place(seller, [("MUG", 2)], customer_email=f"{name}@example.com")
    assert held.lifecycle == Lifecycle.ON_HOLD
    return seller, confirmed, held


def login(client, seller, role=StaffRole.STAFF):
    user = MembershipFactory(seller=seller, role=role).user
    client.force_login(user)
    return user


@pytest.fixture
def shops(db):
    return held_shop("a"), held_shop("b")


def test_queue_lists_only_the_users_sellers_held_orders(client, shops):
    (seller_a, confirmed_a, held_a), (_, _, held_b) = shops
    login(client, seller_a)

    response = client.get(QUEUE)

    assert response.status_code == 200
    listed = [order.pk for order in response.context["cl"].result_list]
    assert listed == [held_a.pk]
    assert "1 earlier orders from this email in 60 minutes" in response.content.decode()


def test_release_asks_for_a_comment_then_releases(client, shops):
    (seller_a, _, held_a), _ = shops
    user = login(client, seller_a)
    action = {"action": "release_holds", "_selected_action": [held_a.pk], "index": 0}

    confirm = client.post(QUEUE, action)
    assert confirm.status_code == 200
    assert "comment" in confirm.context["form"].fields
    held_a.refresh_from_db()
    assert held_a.lifecycle == Lifecycle.ON_HOLD  # nothing decided yet

    without_comment = client.post(QUEUE, {"action": "release_holds", "_selected_action": [held_a.pk], "post": "yes"})
    assert without_comment.context["form"].errors == {"comment": ["This field is required."]}

    done = client.post(
        QUEUE,
        {"action": "release_holds", "_selected_action": [held_a.pk], "post": "yes", "comment": "Known customer"},
        follow=True,
    )
    assert done.status_code == 200
    held_a.refresh_from_db()
    assert held_a.lifecycle == Lifecycle.CONFIRMED
    hold = OrderHold.objects.get(order=held_a)
    assert (hold.resolution, hold.resolved_by_id, hold.comment) == (HoldResolution.RELEASED, user.pk, "Known customer")
    assert client.get(QUEUE).context["cl"].result_count == 0


def test_cancel_action_cancels_with_the_comment(client, shops):
    (seller_a, _, held_a), _ = shops
    login(client, seller_a)

    client.post(
        QUEUE,
        {"action": "cancel_held_orders", "_selected_action": [held_a.pk], "post": "yes", "comment": "Fraud"},
        follow=True,
    )

    held_a.refresh_from_db()
    assert (held_a.lifecycle, held_a.cancel_reason) == (Lifecycle.CANCELLED, "Fraud")


def test_release_cannot_reach_another_sellers_order(client, shops):
    (seller_a, _, _), (_, _, held_b) = shops
    login(client, seller_a)

    client.post(
        QUEUE, {"action": "release_holds", "_selected_action": [held_b.pk], "post": "yes", "comment": "x"}, follow=True
    )

    held_b.refresh_from_db()
    assert held_b.lifecycle == Lifecycle.ON_HOLD


def test_order_page_shows_its_holds(client, shops):
    (seller_a, _, held_a), _ = shops
    login(client, seller_a)

    response = client.get(reverse("admin:orders_order_change", args=[held_a.pk]))

    assert response.status_code == 200
    assert "1 earlier orders from this email" in response.content.decode()


def test_bad_rule_params_are_a_form_error(client, shops):
    (seller_a, _, _), _ = shops
    login(client, seller_a, StaffRole.MANAGER)
    add = reverse("admin:orders_riskrule_add")

    not_json = client.post(add, {"seller": seller_a.pk, "kind": "duplicate_order", "is_enabled": "on", "params": "{"})
    bad_value = client.post(
        add, {"seller": seller_a.pk, "kind": "duplicate_order", "is_enabled": "on", "params": '{"window_minutes": 0}'}
    )

    assert not_json.status_code == 200 and "params" in not_json.context["adminform"].form.errors
    assert bad_value.context["adminform"].form.errors["params"] == [
        "window_minutes must be a whole number of at least 1."
    ]
    assert not RiskRule.objects.filter(kind="duplicate_order").exists()

    client.post(add, {"seller": seller_a.pk, "kind": "duplicate_order", "is_enabled": "on", "params": "{}"})
    assert RiskRule.objects.get(kind="duplicate_order").params == {"window_minutes": 10}


def test_staff_may_see_but_not_change_rules_and_policies(client, shops):
    (seller_a, _, _), _ = shops
    login(client, seller_a, StaffRole.STAFF)
    rule = RiskRule.objects.get(seller=seller_a)

    assert client.get(reverse("admin:orders_riskrule_change", args=[rule.pk])).status_code == 200
    response = client.post(reverse("admin:orders_riskrule_add"), {"seller": seller_a.pk, "kind": "country_mismatch"})
    assert response.status_code == 403
    assert client.get(reverse("admin:orders_orderpolicy_add")).status_code == 403


def test_policy_form_checks_amounts_and_countries(client, shops):
    (seller_a, _, _), (seller_b, _, _) = shops
    login(client, seller_a, StaffRole.OWNER)
    add = reverse("admin:orders_orderpolicy_add")
    fields = {"seller": seller_a.pk, "max_order_values": '{"USD": "x"}', "allowed_countries": '["us", "ZZ"]'}
    fields["blocked_countries"] = "[]"

    response = client.post(add, fields)

    errors = response.context["adminform"].form.errors
    assert errors["max_order_values"] == ['The USD limit must be a decimal string such as "5000.00".']
    assert errors["allowed_countries"] == ["Allowed countries: not ISO 3166-1 alpha-2 country codes: ZZ."]
    other = client.post(add, {**fields, "seller": seller_b.pk})
    assert "seller" in other.context["adminform"].form.errors
    client.post(add, {**fields, "max_order_values": '{"USD": "5000"}', "allowed_countries": '["us", "ca"]'})
    policy = OrderPolicy.objects.get(seller=seller_a)
    assert (policy.max_order_values, policy.allowed_countries) == ({"USD": "5000"}, ["CA", "US"])
