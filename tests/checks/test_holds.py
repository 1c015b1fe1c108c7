"""Reviewing a held order: release or cancel with a comment; both refuse an order that
is not on hold, and then write nothing."""

import pytest

from core.actor import Actor
from core.models import OutboxEvent
from inventory.models import Stock
from orders.exceptions import InvalidTransition, OrderNotFound
from orders.models import EventType, HoldResolution, OrderEvent, OrderHold, RiskRuleKind
from orders.services import AddressInput, order_cancel, order_transition
from orders.services.changes import order_line_cancel
from orders.services.holds import order_hold_cancel, order_hold_release
from orders.status import Lifecycle
from tests.checks.conftest import enable
from tests.factories import UserFactory, place

ABROAD = AddressInput(name="Ada", line1="1 Hauptstr.", city="Berlin", country="DE", postal_code="10115")


@pytest.fixture
def held(shop):
    enable(shop, RiskRuleKind.COUNTRY_MISMATCH)
    enable(shop, RiskRuleKind.FIRST_ORDER_VALUE, USD="10.00")
    order = place(shop, [("MUG", 2)], billing_address=ABROAD)
    assert order.lifecycle == Lifecycle.ON_HOLD
    return order


@pytest.fixture
def reviewer(db):
    return UserFactory()


def topics(order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_type="order", aggregate_id=str(order.pk))
        .order_by("id")
        .values_list("topic", flat=True)
    )


def test_release_confirms_resolves_every_hold_and_announces_it(held, reviewer):
    order = order_hold_release(
        seller_id=held.seller_id, order_id=held.pk, actor=Actor.staff(reviewer), comment="Called the customer"
    )

    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.CONFIRMED
    assert order.confirmed_at is not None
    holds = list(OrderHold.objects.filter(order=order))
    assert len(holds) == 2
    assert {(h.resolution, h.resolved_by_id, h.comment) for h in holds} == {
        (HoldResolution.RELEASED, reviewer.pk, "Called the customer")
    }
    assert all(h.resolved_at is not None for h in holds)
    released = order.events.get(type=EventType.HOLD_RELEASED)
    assert (released.actor_user_id, released.data["comment"], released.data["resolution"]) == (
        reviewer.pk,
        "Called the customer",
        "released",
    )
    assert len(released.data["holds"]) == 2
    status = order.events.filter(type=EventType.STATUS_CHANGED).last().data
    assert (status["before"], status["after"]) == (Lifecycle.ON_HOLD, Lifecycle.CONFIRMED)
    assert topics(order) == ["order.created", "order.on_hold", "order.released"]
    assert Stock.objects.get(product__sku="MUG").allocated == 2


def test_cancel_with_a_comment_cancels_and_releases_the_stock(held, reviewer):
    order = order_hold_cancel(
        seller_id=held.seller_id, order_id=held.pk, actor=Actor.staff(reviewer), comment="Stolen card"
    )

    order.refresh_from_db()
    assert (order.lifecycle, order.cancel_reason) == (Lifecycle.CANCELLED, "Stolen card")
    assert set(OrderHold.objects.filter(order=order).values_list("resolution", "comment")) == {
        (HoldResolution.CANCELLED, "Stolen card")
    }
    assert Stock.objects.get(product__sku="MUG").allocated == 0
    types = list(order.events.values_list("type", flat=True))
    assert types[-3:] == [EventType.HOLD_RELEASED, EventType.STATUS_CHANGED, EventType.STOCK_RELEASED]
    decision = order.events.get(type=EventType.HOLD_RELEASED).data
    assert (decision["resolution"], decision["comment"]) == ("cancelled", "Stolen card")
    assert topics(order) == ["order.created", "order.on_hold", "order.cancelled"]


@pytest.mark.parametrize("service", [order_hold_release, order_hold_cancel])
def test_an_order_not_on_hold_is_refused_with_409_and_nothing_is_written(shop, reviewer, service):
    order = place(shop, [("MUG", 1)])
    events, outbox = OrderEvent.objects.count(), OutboxEvent.objects.count()

    with pytest.raises(InvalidTransition) as error:
        service(seller_id=shop.pk, order_id=order.pk, actor=Actor.staff(reviewer), comment="x")

    assert error.value.status_code == 409
    assert error.value.code == "invalid_transition"
    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.CONFIRMED
    assert (OrderEvent.objects.count(), OutboxEvent.objects.count()) == (events, outbox)
    assert Stock.objects.get(product__sku="MUG").allocated == 1


@pytest.mark.parametrize("service", [order_hold_release, order_hold_cancel])
def test_a_decided_order_cannot_be_decided_again(held, reviewer, service):
    order_hold_release(seller_id=held.seller_id, order_id=held.pk, actor=Actor.staff(reviewer), comment="ok")

    with pytest.raises(InvalidTransition):
        service(seller_id=held.seller_id, order_id=held.pk, actor=Actor.staff(reviewer), comment="again")
    assert set(OrderHold.objects.values_list("comment", flat=True)) == {"ok"}


def test_another_sellers_held_order_is_not_found(held, other_seller, reviewer):
    with pytest.raises(OrderNotFound):
        order_hold_release(seller_id=other_seller.pk, order_id=held.pk, actor=Actor.staff(reviewer), comment="x")


def test_a_hold_is_not_left_through_the_plain_transition(held):
    with pytest.raises(InvalidTransition):
        order_transition(seller_id=held.seller_id, order_id=held.pk, to=Lifecycle.CONFIRMED, actor=Actor.system())
    assert not OrderHold.objects.filter(resolved_at__isnull=False).exists()


def test_a_plain_cancel_of_a_held_order_closes_its_holds(held):

    order_cancel(seller_id=held.seller_id, order_id=held.pk, actor=Actor.system(), reason="Customer changed mind")

    assert set(OrderHold.objects.filter(order=held).values_list("resolution", "comment")) == {
        (HoldResolution.CANCELLED, "Customer changed mind")
    }


def test_cancelling_the_last_line_of_a_held_order_closes_its_holds_and_stamps_the_cancellation(held):
    order = order_line_cancel(
        seller_id=held.seller_id,
        order_id=held.pk,
        line_id=held.lines.get().pk,
        quantity=None,
        actor=Actor.system(),
        reason="Out of stock at the supplier",
    )

    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.CANCELLED and order.cancelled_at is not None
    assert order.cancel_reason == "Out of stock at the supplier"
    assert set(OrderHold.objects.filter(order=held).values_list("resolution", "comment")) == {
        (HoldResolution.CANCELLED, "Out of stock at the supplier")
    }
    assert Stock.objects.get(product__sku="MUG").allocated == 0
