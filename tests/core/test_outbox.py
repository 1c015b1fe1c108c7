from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from core.exceptions import HandlerFailed
from core.models import OutboxEvent
from core.outbox import _handlers, outbox_dispatch, outbox_pending_ids, outbox_record, register_handler
from tests.factories import ProductFactory, WarehouseFactory, place, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed_order(seller):
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    return place(seller, [("MUG", 2)], customer_email="ada@example.com")


@pytest.fixture
def flaky_topic():
    calls = []

    def handler(event):
        calls.append(event.pk)
        if len(calls) == 1:
            raise RuntimeError("first attempt fails")

    register_handler("test.flaky", handler, name="flaky")
    yield calls
    _handlers.pop("test.flaky", None)


def test_event_is_published_only_after_commit(seller, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        event = outbox_record(topic="test.none", seller_id=seller.pk, aggregate_type="x", aggregate_id=1, payload={})
        assert callbacks == [], "nothing may be published before the transaction commits"
    assert len(callbacks) == 1
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is None


def test_dispatch_sends_the_confirmation_once_however_often_it_runs(placed_order):
    event = OutboxEvent.objects.get(topic="order.created", aggregate_id=str(placed_order.pk))

    outbox_dispatch(event_id=event.pk)
    outbox_dispatch(event_id=event.pk)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert f"#{placed_order.number}" in message.subject
    assert "2 × " in message.body and "20.00 USD" in message.body
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert event.handled == ["orders.confirmation_email", "orders.webhooks", "shipping.shipments_sync"]


def test_no_confirmation_when_the_seller_turned_them_off(seller, placed_order):
    seller.notify_customers = False
    seller.save()
    event = OutboxEvent.objects.get(topic="order.created", aggregate_id=str(placed_order.pk))

    outbox_dispatch(event_id=event.pk)

    assert mail.outbox == []
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None


def test_a_failing_handler_is_recorded_and_retried_until_it_succeeds(seller, flaky_topic):
    event = outbox_record(topic="test.flaky", seller_id=seller.pk, aggregate_type="x", aggregate_id=1, payload={})

    with pytest.raises(HandlerFailed):
        outbox_dispatch(event_id=event.pk)
    failed = OutboxEvent.objects.get(pk=event.pk)
    outbox_dispatch(event_id=event.pk)
    done = OutboxEvent.objects.get(pk=event.pk)

    assert (failed.attempts, failed.dispatched_at, "first attempt fails" in failed.last_error) == (1, None, True)
    assert (done.attempts, done.last_error, done.handled) == (2, "", ["flaky"])
    assert done.dispatched_at is not None
    assert len(flaky_topic) == 2


def test_the_sweep_finds_what_was_never_relayed(seller):
    stale = outbox_record(topic="test.none", seller_id=seller.pk, aggregate_type="x", aggregate_id=1, payload={})
    fresh = outbox_record(topic="test.none", seller_id=seller.pk, aggregate_type="x", aggregate_id=2, payload={})
    OutboxEvent.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    assert outbox_pending_ids() == [stale.pk]
    outbox_dispatch(event_id=stale.pk)
    assert outbox_pending_ids() == []
    assert fresh.pk not in outbox_pending_ids()
