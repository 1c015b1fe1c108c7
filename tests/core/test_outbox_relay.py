"""The outbox relay after commit: one queued relay serves every commit made before it
starts (a flag in the shared cache), on the real broker; without a shared cache every
commit queues one; a failed event goes on by itself with its backoff."""

import pytest
from django.conf import settings

from config.celery import app as celery_app
from core.models import OutboxEvent
from core.outbox import RELAY_QUEUED_KEY, _handlers, outbox_record, outbox_relay_fresh, register_handler
from tests.celery_worker import broker_at

pytestmark = pytest.mark.django_db


def queued() -> int:
    """Messages waiting in this test run's queue on the broker."""
    with celery_app.connection_for_write() as connection:
        return connection.default_channel.queue_declare(queue=settings.CELERY_TASK_DEFAULT_QUEUE).message_count


def commit_event(seller, capture, topic: str = "test.none") -> OutboxEvent:
    with capture(execute=True):
        return outbox_record(topic=topic, seller_id=seller.pk, aggregate_type="x", aggregate_id=1, payload={})


def test_commits_while_a_relay_is_queued_queue_no_other(seller, redis_cache, django_capture_on_commit_callbacks):
    before = queued()
    events = [commit_event(seller, django_capture_on_commit_callbacks) for _ in range(3)]
    assert queued() == before + 1, "one relay for the three commits"
    assert redis_cache.get(RELAY_QUEUED_KEY) == 1

    assert outbox_relay_fresh() == 3  # what the queued relay does in the worker
    assert not OutboxEvent.objects.filter(pk__in=[e.pk for e in events], dispatched_at__isnull=True).exists()
    assert redis_cache.get(RELAY_QUEUED_KEY) is None, "a started relay lets the next commit queue one"

    commit_event(seller, django_capture_on_commit_callbacks)
    assert queued() == before + 2


def test_without_a_shared_cache_every_commit_queues_a_relay(seller, django_capture_on_commit_callbacks):
    before = queued()
    commit_event(seller, django_capture_on_commit_callbacks)
    commit_event(seller, django_capture_on_commit_callbacks)
    assert queued() == before + 2


def test_a_relay_over_its_budget_queues_another_for_the_rest(seller, redis_cache, django_capture_on_commit_callbacks):
    for _ in range(5):
        commit_event(seller, django_capture_on_commit_callbacks)
    before = queued()

    assert outbox_relay_fresh(batch=2, budget_seconds=0) == 1, "one event, then the budget is spent"
    assert queued() == before + 1
    assert outbox_relay_fresh(batch=2) == 4, "the next one takes the rest"
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()


def test_a_failing_event_goes_on_by_itself(seller, redis_cache, django_capture_on_commit_callbacks):
    register_handler("test.failing", lambda event: 1 / 0, name="failing")
    try:
        event = commit_event(seller, django_capture_on_commit_callbacks, topic="test.failing")
        fine = commit_event(seller, django_capture_on_commit_callbacks)
        before = queued()

        assert outbox_relay_fresh() == 2
    finally:
        _handlers.pop("test.failing", None)
    event.refresh_from_db()
    assert (event.attempts, event.dispatched_at) == (1, None)
    assert "ZeroDivisionError" in event.last_error
    assert queued() == before + 1, "its own relay task, with a countdown"
    assert OutboxEvent.objects.get(pk=fine.pk).dispatched_at is not None
    assert outbox_relay_fresh() == 0, "a tried event is left to its own retries"


def test_a_relay_goes_on_when_the_cache_is_down(seller, settings, django_capture_on_commit_callbacks):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    before = queued()
    event = commit_event(seller, django_capture_on_commit_callbacks)
    assert queued() == before + 1, "no flag to be had: the commit queues a relay regardless"
    assert outbox_relay_fresh() == 1
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None


def test_a_failed_publish_clears_the_flag(seller, redis_cache, django_capture_on_commit_callbacks):
    with broker_at("redis://127.0.0.1:1/0"):
        event = commit_event(seller, django_capture_on_commit_callbacks)
    assert redis_cache.get(RELAY_QUEUED_KEY) is None, "no relay is queued, so none may be claimed"
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is None  # the sweep's, or the next relay's

    before = queued()
    commit_event(seller, django_capture_on_commit_callbacks)
    assert queued() == before + 1
    assert outbox_relay_fresh() == 2


def test_a_commit_that_counts_on_a_queued_relay_is_read_by_it(
    seller, redis_cache, django_capture_on_commit_callbacks, monkeypatch
):
    """A process that found a relay queued asks the cache nothing for a moment after,
    and that relay reads once more after the moment has passed (here: a commit lands
    while the relay waits to read again)."""
    import core.outbox as outbox

    monkeypatch.setattr(outbox, "RELAY_TRUST_SECONDS", 60.0)
    monkeypatch.setattr(outbox, "RELAY_REREAD_SECONDS", 120.0)
    monkeypatch.setattr(outbox, "_relay_found", [float("-inf")])
    before = queued()
    first = commit_event(seller, django_capture_on_commit_callbacks)
    assert queued() == before + 1

    late: list[OutboxEvent] = []
    monkeypatch.setattr(
        outbox.time, "sleep", lambda seconds: late.append(commit_event(seller, django_capture_on_commit_callbacks))
    )
    assert outbox_relay_fresh() == 2, "the event committed while the relay ran, read again"
    assert queued() == before + 1, "that commit queued no relay of its own"
    assert redis_cache.get(RELAY_QUEUED_KEY) is None, "nor set the flag"
    dispatched = OutboxEvent.objects.filter(pk__in=[first.pk, late[0].pk], dispatched_at__isnull=False)
    assert dispatched.count() == 2

    monkeypatch.setattr(outbox, "RELAY_TRUST_SECONDS", 0.0)
    commit_event(seller, django_capture_on_commit_callbacks)
    assert queued() == before + 2, "past the moment, a commit asks again"
