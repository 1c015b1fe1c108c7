"""Deliveries in-process: the outbox handler creates them, one attempt POSTs a signed
document to a real HTTP receiver on loopback, failures are recorded for a retry."""

import json
import time

import pytest

from core.actor import Actor
from core.models import OutboxEvent
from core.outbox import outbox_dispatch
from orders.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from orders.services import order_cancel
from orders.services.webhooks import webhook_deliveries_create, webhook_delivery_attempt, webhook_retry_delay
from orders.webhook_signing import webhook_signature_verify
from tests.factories import ProductFactory, WarehouseFactory, place, stocked
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db


def event_of(order, topic="order.created") -> OutboxEvent:
    return OutboxEvent.objects.get(topic=topic, aggregate_id=str(order.pk))


def delivered(order, subscription, django_capture_on_commit_callbacks) -> WebhookDelivery:
    """Dispatch the order's event (queueing nothing) and return the subscription's delivery."""
    with django_capture_on_commit_callbacks(execute=False):
        outbox_dispatch(event_id=event_of(order).pk)
    return WebhookDelivery.objects.get(subscription=subscription)


def test_placing_an_order_creates_one_delivery_per_matching_subscription(
    seller, other_seller, mug, receiver, django_capture_on_commit_callbacks
):
    created = subscribe(seller, receiver.url, topics=["order.created"])
    both = subscribe(seller, receiver.url + "/both", topics=["order.created", "order.cancelled"])
    subscribe(seller, receiver.url + "/cancelled", topics=["order.cancelled"])
    subscribe(seller, receiver.url + "/paused", topics=["order.created"], is_active=False)
    stocked(ProductFactory(seller=other_seller, sku="MUG"), WarehouseFactory(seller=other_seller), 5)
    subscribe(other_seller, receiver.url + "/other", topics=["order.created"])

    order = place(seller, [("MUG", 2)])
    with django_capture_on_commit_callbacks(execute=False) as queued:
        outbox_dispatch(event_id=event_of(order).pk)

    deliveries = WebhookDelivery.objects.order_by("subscription_id")
    assert [(d.subscription_id, d.seller_id, d.topic, d.status, d.attempts) for d in deliveries] == [
        (created.pk, seller.pk, "order.created", DeliveryStatus.PENDING, 0),
        (both.pk, seller.pk, "order.created", DeliveryStatus.PENDING, 0),
    ]
    assert len(queued) == 2, "one delivery task per delivery, after commit"
    assert receiver.requests == [], "the handler itself sends nothing"


def test_a_cancelled_order_is_announced_to_the_cancelled_topic_only(
    seller, mug, receiver, django_capture_on_commit_callbacks
):
    cancelled = subscribe(seller, receiver.url, topics=["order.cancelled"])
    order = place(seller, [("MUG", 1)])
    order_cancel(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("test"))

    with django_capture_on_commit_callbacks(execute=False):
        outbox_dispatch(event_id=event_of(order).pk)
        outbox_dispatch(event_id=event_of(order, "order.cancelled").pk)

    assert list(WebhookDelivery.objects.values_list("subscription_id", "topic")) == [(cancelled.pk, "order.cancelled")]


def test_running_the_handler_twice_creates_one_delivery_and_queues_it_once(
    seller, mug, receiver, django_capture_on_commit_callbacks
):
    subscription = subscribe(seller, receiver.url)
    event = event_of(place(seller, [("MUG", 1)]))

    with django_capture_on_commit_callbacks(execute=False) as first:
        webhook_deliveries_create(event)
    with django_capture_on_commit_callbacks(execute=False) as second:
        webhook_deliveries_create(event)

    assert WebhookDelivery.objects.filter(subscription=subscription, event=event).count() == 1
    assert (len(first), len(second)) == (1, 0)


def test_a_delivery_posts_the_documented_body_signed_as_the_recipe_verifies(
    seller, mug, receiver, api, django_capture_on_commit_callbacks
):
    subscription = subscribe(seller, receiver.url)
    order = place(seller, [("MUG", 2)])
    delivery = delivered(order, subscription, django_capture_on_commit_callbacks)
    event = event_of(order)

    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    assert (outcome.status, outcome.retry_in) == (DeliveryStatus.SUCCEEDED, None)
    [request] = receiver.requests
    assert request.path == "/hooks/waybill"
    headers = request.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["Waybill-Event-Id"] == str(event.event_id)
    assert headers["Waybill-Event-Type"] == "order.created"
    timestamp = int(headers["Waybill-Timestamp"])
    assert abs(time.time() - timestamp) < 10
    body = json.loads(request.body)
    assert body == {
        "id": str(event.event_id),
        "type": "order.created",
        "created_at": event.created_at.isoformat(),
        "data": {"order": api.get(f"/api/v1/orders/{order.pk}/").json()},
    }
    signature = headers["Waybill-Signature"]
    assert signature.startswith(f"t={timestamp},v1=")
    assert webhook_signature_verify(subscription.secret, signature, request.body)
    # The recipe refuses a changed body, another secret and a replay past the tolerance.
    assert not webhook_signature_verify(subscription.secret, signature, request.body.replace(b'"MUG"', b'"CUP"'))
    assert not webhook_signature_verify(subscription.secret + "x", signature, request.body)
    assert not webhook_signature_verify(subscription.secret, signature, request.body, now=timestamp + 301)
    assert webhook_signature_verify(subscription.secret, signature, request.body, now=timestamp + 299)
    assert not webhook_signature_verify(subscription.secret, f"t={timestamp}", request.body)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.response_excerpt) == (
        DeliveryStatus.SUCCEEDED,
        1,
        200,
        "ok",
    )
    assert delivery.delivered_at is not None and delivery.duration_ms is not None and delivery.last_error == ""


def test_a_succeeded_delivery_is_never_sent_again(seller, mug, receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(seller, receiver.url)
    delivery = delivered(place(seller, [("MUG", 1)]), subscription, django_capture_on_commit_callbacks)
    webhook_delivery_attempt(delivery_id=delivery.pk)

    outcome = webhook_delivery_attempt(delivery_id=delivery.pk, retries=1)

    assert (outcome.status, outcome.retry_in) == ("skipped", None)
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)


def test_a_server_error_is_recorded_and_retried_until_the_receiver_recovers(
    seller, mug, receiver, django_capture_on_commit_callbacks
):
    subscription = subscribe(seller, receiver.url)
    delivery = delivered(place(seller, [("MUG", 1)]), subscription, django_capture_on_commit_callbacks)
    receiver.statuses = [500]

    failed = webhook_delivery_attempt(delivery_id=delivery.pk, retries=0)
    delivery.refresh_from_db()

    assert failed.status == DeliveryStatus.FAILED
    assert 15 <= failed.retry_in <= 30, "the first retry waits half to all of the 30 s base"
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.last_error) == (
        DeliveryStatus.FAILED,
        1,
        500,
        "HTTP 500",
    )
    assert delivery.response_excerpt == "receiver says 500"

    recovered = webhook_delivery_attempt(delivery_id=delivery.pk, retries=1)
    delivery.refresh_from_db()

    assert (recovered.status, recovered.retry_in) == (DeliveryStatus.SUCCEEDED, None)
    assert (delivery.status, delivery.attempts, delivery.response_status, delivery.last_error) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
        "",
    )
    first, second = receiver.requests
    assert first.headers["Waybill-Event-Id"] == second.headers["Waybill-Event-Id"]


def test_the_last_retry_abandons_the_delivery(seller, mug, receiver, django_capture_on_commit_callbacks, settings):
    subscription = subscribe(seller, receiver.url)
    delivery = delivered(place(seller, [("MUG", 1)]), subscription, django_capture_on_commit_callbacks)
    receiver.statuses = [503]

    outcome = webhook_delivery_attempt(delivery_id=delivery.pk, retries=settings.WAYBILL_WEBHOOK_MAX_RETRIES)

    assert (outcome.status, outcome.retry_in) == (DeliveryStatus.ABANDONED, None)
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.ABANDONED
    assert webhook_delivery_attempt(delivery_id=delivery.pk).status == "skipped"
    assert len(receiver.requests) == 1


def test_gone_deactivates_the_subscription(seller, mug, receiver, django_capture_on_commit_callbacks):
    subscription = subscribe(seller, receiver.url)
    delivery = delivered(place(seller, [("MUG", 1)]), subscription, django_capture_on_commit_callbacks)
    receiver.statuses = [410]

    outcome = webhook_delivery_attempt(delivery_id=delivery.pk)

    assert (outcome.status, outcome.retry_in) == (DeliveryStatus.ABANDONED, None)
    assert WebhookSubscription.objects.get(pk=subscription.pk).is_active is False


def test_a_slow_or_absent_receiver_is_a_failure_with_the_error(
    seller, mug, receiver, django_capture_on_commit_callbacks, settings
):
    settings.WAYBILL_WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    slow = delivered(place(seller, [("MUG", 1)]), subscribe(seller, receiver.url), django_capture_on_commit_callbacks)
    absent_subscription = subscribe(seller, "http://127.0.0.1:1/closed")
    absent = delivered(place(seller, [("MUG", 1)]), absent_subscription, django_capture_on_commit_callbacks)

    started = time.monotonic()
    outcomes = [webhook_delivery_attempt(delivery_id=d.pk) for d in (slow, absent)]

    assert time.monotonic() - started < 1.5, "the timeout bounds the attempt"
    assert [o.status for o in outcomes] == [DeliveryStatus.FAILED, DeliveryStatus.FAILED]
    slow.refresh_from_db()
    absent.refresh_from_db()
    assert (slow.response_status, slow.last_error.split(":")[0]) == (None, "ReadTimeout")
    assert (absent.response_status, absent.last_error.split(":")[0]) == (None, "ConnectError")


def test_retry_delays_double_with_jitter_and_stay_under_the_cap():
    assert webhook_retry_delay(retries=0, base=30, rng=lambda: 0.0) == 15
    assert webhook_retry_delay(retries=0, base=30, rng=lambda: 1.0) == 30
    assert webhook_retry_delay(retries=3, base=30, rng=lambda: 1.0) == 240
    assert webhook_retry_delay(retries=7, base=30, rng=lambda: 1.0) == 1800
