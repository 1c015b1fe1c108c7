"""Webhooks through a real Celery worker process on the configured broker: a failed
attempt is retried by Celery after a backoff, and an order placed while the broker is
unreachable is still announced, exactly once, when the broker is back."""

import time

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.models import OutboxEvent
from core.outbox import RELAY_QUEUED_KEY
from core.tasks import outbox_sweep_task
from orders.models import DeliveryStatus, WebhookDelivery
from tests.celery_worker import broker_at, worker_start, worker_stop
from tests.conftest import client_for
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, order_body, place, stocked
from tests.webhooks.conftest import subscribe

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"
RETRY_BASE_SECONDS = 1.0


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One worker for the module; it retries webhooks after about a second, not 30."""
    with django_db_blocker.unblock():
        process = worker_start(
            mail_dir=tmp_path_factory.mktemp("mail"),
            extra_env={"WAYBILL_WEBHOOK_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS)},
        )
    yield process
    worker_stop(process)


def wait_until(condition, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, process.stdout.read().decode()
        time.sleep(0.1)
    state = list(WebhookDelivery.objects.values("status", "attempts", "last_error"))
    events = list(OutboxEvent.objects.values("topic", "attempts", "handled", "last_error", "dispatched_at"))
    raise AssertionError(f"not within {timeout} s; deliveries {state}; events {events}")


def test_celery_retries_a_failed_delivery_after_a_backoff(worker, receiver):
    seller = SellerFactory()
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    subscription = subscribe(seller, receiver.url)
    receiver.statuses = [500]

    place(seller, [("MUG", 1)])

    def succeeded():
        return WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.SUCCEEDED).exists()

    wait_until(succeeded, worker)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.attempts, delivery.response_status, delivery.last_error) == (2, 200, "")
    first, second = receiver.requests
    assert first.headers["Waybill-Event-Id"] == second.headers["Waybill-Event-Id"]
    assert second.at - first.at >= RETRY_BASE_SECONDS / 2, "the retry waited for its backoff"


def test_an_order_placed_while_the_broker_is_down_is_delivered_once_it_is_back(worker, receiver, caplog):
    seller = SellerFactory()
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    subscription = subscribe(seller, receiver.url)
    api = client_for(seller)
    # With a shared cache, a relay flag left by an earlier test would skip the publish.
    cache.delete(RELAY_QUEUED_KEY)

    with broker_at(UNREACHABLE_BROKER):
        started = time.monotonic()
        response = api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json")
        elapsed = time.monotonic() - started

    assert response.status_code == 201, response.json()
    assert elapsed < 3, f"a down broker must not hold the request ({elapsed:.1f} s)"
    event = OutboxEvent.objects.get(topic="order.created", aggregate_id=str(response.json()["id"]))
    # The commit's publish failed. (A relay queued by an earlier test may still read the
    # event before the sweep does: on the filesystem broker, which the worker polls once
    # a second, one can be waiting. Either way it must arrive exactly once.)
    assert [r.getMessage() for r in caplog.records if r.name == "core.outbox"] == [
        "Broker unavailable; outbox events left for the sweep"
    ]

    # The broker is back: the sweep (run by the worker, as beat would) relays the event.
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timezone.timedelta(minutes=1))
    outbox_sweep_task.delay()

    def succeeded():
        return WebhookDelivery.objects.filter(subscription=subscription, status=DeliveryStatus.SUCCEEDED).exists()

    wait_until(succeeded, worker)
    time.sleep(1)  # room for a duplicate to show up, if there were one
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["Waybill-Event-Id"] == str(event.event_id)
    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert (delivery.event_id, delivery.attempts) == (event.pk, 1)
    event.refresh_from_db()
    assert event.dispatched_at is not None and "orders.webhooks" in event.handled
