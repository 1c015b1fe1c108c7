"""Risk rules after entry: each fires at its boundary against real earlier orders, a
firing rule holds the order with its reasons, and the stock stays reserved."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from core.models import OutboxEvent
from inventory.models import Stock
from orders.models import EventType, Order, OrderHold, RiskRule, RiskRuleKind
from orders.services import AddressInput
from orders.services.inputs import PaymentRiskInput
from orders.status import FulfillmentStatus, Lifecycle
from tests.checks.conftest import enable
from tests.factories import ADDRESS, place


def age(order: Order, minutes: float) -> None:
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def held_kinds(order: Order) -> list[str]:
    return list(OrderHold.objects.filter(order=order).values_list("kind", flat=True))


def test_no_rules_confirms_as_before(shop):
    order = place(shop, [("MUG", 1)])

    assert order.lifecycle == Lifecycle.CONFIRMED
    assert not OrderHold.objects.exists()


def test_velocity_by_email_ignores_case_and_the_window_edge(shop):
    enable(shop, RiskRuleKind.VELOCITY_EMAIL, max_orders=2, window_minutes=60)
    first = place(shop, [("MUG", 1)], customer_email="ada@example.com")
    second = place(shop, [("MUG", 2)], customer_email="ADA@Example.com")
    assert (first.lifecycle, second.lifecycle) == (Lifecycle.CONFIRMED, Lifecycle.CONFIRMED)

    third = place(shop, [("MUG", 3)], customer_email="Ada@example.com")
    assert third.lifecycle == Lifecycle.ON_HOLD
    assert held_kinds(third) == [RiskRuleKind.VELOCITY_EMAIL]

    age(first, 61)
    age(third, 61)
    assert place(shop, [("MUG", 4)], customer_email="ada@example.com").lifecycle == Lifecycle.CONFIRMED
    assert place(shop, [("MUG", 1)], customer_email="bob@example.com").lifecycle == Lifecycle.CONFIRMED


def test_velocity_by_address_ignores_case_and_spaces(shop):
    enable(shop, RiskRuleKind.VELOCITY_ADDRESS, max_orders=1, window_minutes=30)
    first = place(shop, [("MUG", 1)], customer_email="a@example.com")
    same = AddressInput(name="Someone", line1="12 ANALYTICAL  way", city="Boston", country="US", postal_code="021 10")
    elsewhere = AddressInput(name="Ada", line1="12 Analytical Way", city="Boston", country="US", postal_code="02111")

    assert place(shop, [("MUG", 1)], customer_email="b@example.com", shipping_address=elsewhere).lifecycle == (
        Lifecycle.CONFIRMED
    )
    held = place(shop, [("MUG", 1)], customer_email="c@example.com", shipping_address=same)
    assert held_kinds(held) == [RiskRuleKind.VELOCITY_ADDRESS]

    age(first, 31)
    age(held, 31)
    assert place(shop, [("MUG", 1)], customer_email="d@example.com", shipping_address=same).lifecycle == (
        Lifecycle.CONFIRMED
    )


def test_country_mismatch_holds_an_order_billed_elsewhere(shop):
    enable(shop, RiskRuleKind.COUNTRY_MISMATCH)
    billed_here = AddressInput(name="Ada", line1="1 Main St", city="Boston", country="US", postal_code="02110")
    billed_abroad = AddressInput(name="Ada", line1="1 Hauptstr.", city="Berlin", country="DE", postal_code="10115")

    assert place(shop, [("MUG", 1)]).lifecycle == Lifecycle.CONFIRMED
    assert place(shop, [("MUG", 1)], billing_address=billed_here).lifecycle == Lifecycle.CONFIRMED
    held = place(shop, [("MUG", 1)], billing_address=billed_abroad)
    assert held.holds.get().reason == "Billed to DE, shipped to US"


def test_first_order_value_holds_a_new_customers_big_order_only(shop):
    enable(shop, RiskRuleKind.FIRST_ORDER_VALUE, USD="30.00")

    at_limit = place(shop, [("MUG", 3)], customer_email="new@example.com")
    assert at_limit.lifecycle == Lifecycle.CONFIRMED  # 30.00 is not above 30.00
    assert place(shop, [("MUG", 4)], customer_email="NEW@example.com").lifecycle == Lifecycle.CONFIRMED  # known now
    held = place(shop, [("MUG", 4)], customer_email="other@example.com")
    assert held_kinds(held) == [RiskRuleKind.FIRST_ORDER_VALUE]
    assert held.holds.get().details == {"total": "40.00", "currency": "USD", "limit": "30.00"}


def test_a_cancelled_earlier_order_does_not_make_a_known_customer(shop):
    enable(shop, RiskRuleKind.FIRST_ORDER_VALUE, USD="30.00")
    earlier = place(shop, [("MUG", 1)], customer_email="new@example.com")
    Order.objects.filter(pk=earlier.pk).update(lifecycle=Lifecycle.CANCELLED)

    assert place(shop, [("MUG", 4)], customer_email="new@example.com").lifecycle == Lifecycle.ON_HOLD


def test_duplicate_needs_same_email_lines_and_total_within_the_window(shop):
    enable(shop, RiskRuleKind.DUPLICATE_ORDER, window_minutes=10)
    original = place(shop, [("MUG", 2), ("TEA", 1)])

    assert place(shop, [("MUG", 2)]).lifecycle == Lifecycle.CONFIRMED  # fewer lines
    assert place(shop, [("MUG", 2), ("TEA", 2)]).lifecycle == Lifecycle.CONFIRMED  # other quantity
    other_total = place(shop, [("MUG", 2), ("TEA", 1)], shipping_total=Decimal(5))
    assert other_total.lifecycle == Lifecycle.CONFIRMED
    other = place(shop, [("MUG", 2), ("TEA", 1)], customer_email="bob@example.com")
    assert other.lifecycle == Lifecycle.CONFIRMED
    again = place(shop, [("TEA", 1), ("MUG", 2)], customer_email="ADA@example.com")
    assert again.lifecycle == Lifecycle.ON_HOLD
    assert again.holds.get().details["duplicate_of"] == original.number

    Order.objects.filter(customer_email__iexact="ada@example.com").update(
        created_at=timezone.now() - timedelta(minutes=11)
    )
    assert place(shop, [("MUG", 2), ("TEA", 1)]).lifecycle == Lifecycle.CONFIRMED


def test_payment_risk_holds_on_an_elevated_verdict(shop):
    enable(shop, RiskRuleKind.PAYMENT_RISK)

    normal = place(shop, [("MUG", 1)], payment_risk=PaymentRiskInput(level="normal", score=12))
    assert normal.lifecycle == Lifecycle.CONFIRMED
    assert (normal.payment_risk_level, normal.payment_risk_score) == ("normal", 12)
    held = place(shop, [("MUG", 1)], payment_risk=PaymentRiskInput(level="elevated", score=66))
    assert held.holds.get().reason == "Payment processor rates the payment risk elevated, score 66"


def test_a_disabled_rule_does_not_run(shop):
    RiskRule.objects.create(seller=shop, kind=RiskRuleKind.COUNTRY_MISMATCH, is_enabled=False)
    billed_abroad = AddressInput(name="Ada", line1="1 Hauptstr.", city="Berlin", country="DE", postal_code="10115")

    assert place(shop, [("MUG", 1)], billing_address=billed_abroad).lifecycle == Lifecycle.CONFIRMED


def test_another_sellers_orders_do_not_count(shop, other_seller):
    enable(shop, RiskRuleKind.VELOCITY_EMAIL, max_orders=1)
    enable(other_seller, RiskRuleKind.VELOCITY_EMAIL, max_orders=1)
    place(shop, [("MUG", 1)])

    assert not Order.objects.filter(seller=other_seller).exists()
    assert place(shop, [("MUG", 1)]).lifecycle == Lifecycle.ON_HOLD


def test_several_rules_hold_with_every_reason_and_keep_the_stock(shop):
    enable(shop, RiskRuleKind.COUNTRY_MISMATCH)
    enable(shop, RiskRuleKind.FIRST_ORDER_VALUE, USD="10.00")
    enable(shop, RiskRuleKind.PAYMENT_RISK)
    billed_abroad = AddressInput(name="Ada", line1="1 Hauptstr.", city="Berlin", country="DE", postal_code="10115")

    order = place(shop, [("MUG", 3)], billing_address=billed_abroad, payment_risk=PaymentRiskInput(level="highest"))

    order.refresh_from_db()
    assert (order.lifecycle, order.fulfillment_status, order.confirmed_at) == (
        Lifecycle.ON_HOLD,
        FulfillmentStatus.ALLOCATED,
        None,
    )
    assert sorted(held_kinds(order)) == sorted(
        [RiskRuleKind.COUNTRY_MISMATCH, RiskRuleKind.FIRST_ORDER_VALUE, RiskRuleKind.PAYMENT_RISK]
    )
    assert all(h.seller_id == shop.pk and h.resolved_at is None for h in order.holds.all())
    assert Stock.objects.get(product__sku="MUG").allocated == 3
    assert list(order.events.values_list("type", flat=True)) == [
        EventType.PLACED,
        EventType.STOCK_ALLOCATED,
        EventType.STATUS_CHANGED,
        EventType.HOLD_PLACED,
    ]
    status = order.events.get(type=EventType.STATUS_CHANGED).data
    assert (status["before"], status["after"]) == (Lifecycle.PLACED, Lifecycle.ON_HOLD)
    reasons = order.events.get(type=EventType.HOLD_PLACED).data["reasons"]
    assert sorted(r["kind"] for r in reasons) == sorted(held_kinds(order))
    outbox = list(OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=str(order.pk)).order_by("id"))
    assert [e.topic for e in outbox] == ["order.created", "order.on_hold"]
    assert outbox[1].payload["reasons"] == reasons


def test_the_default_address_fixture_is_the_one_compared():
    # Guards the address tests above against a change of the shared fixture.
    assert (ADDRESS.line1, ADDRESS.postal_code, ADDRESS.country) == ("12 Analytical Way", "02110", "US")
