"""The transactional outbox: record a domain event with the change, relay it after
commit, let registered handlers react. Handlers are registered by each app's
AppConfig.ready(), so a lower app can start a higher app's work without importing it.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache as shared_cache
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.exceptions import HandlerFailed
from core.fastsql import insert_rows
from core.models import OutboxEvent
from core.tasks import outbox_relay_fresh_task, outbox_relay_task

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, dict[str, Handler]] = {}

MAX_ATTEMPTS = 20
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 500
RELAY_QUEUED_KEY = "waybill:outbox:relay-queued"
# A relay queued longer than this (a worker backlog, a lost message) no longer stops
# commits from queuing another.
RELAY_QUEUED_SECONDS = 60
RELAY_BATCH = 100
# A process that found a relay queued (the flag set, or set by itself) counts on that
# relay for its commits of the next RELAY_TRUST_SECONDS without asking the cache again;
# a relay reads once more RELAY_REREAD_SECONDS after it starts, so it sees them (see
# outbox_relay_soon). Twice the trust, against clocks that tick apart.
RELAY_TRUST_SECONDS = 0.05
RELAY_REREAD_SECONDS = 2 * RELAY_TRUST_SECONDS
# Well inside the task's soft time limit (60 s), which the event in hand must not meet.
RELAY_BUDGET_SECONDS = 20


def register_handler(topic: str, handler: Handler, *, name: str | None = None) -> None:
    name = name or f"{handler.__module__}.{handler.__qualname__}"
    _handlers.setdefault(topic, {})[name] = handler


def handlers_for(topic: str) -> dict[str, Handler]:
    return dict(_handlers.get(topic, {}))


def outbox_record(
    *, topic: str, seller_id: int | None, aggregate_type: str, aggregate_id: str | int, payload: dict
) -> OutboxEvent:
    """Write the event in the caller's transaction and relay it once that commits."""
    event = OutboxEvent(
        topic=topic, seller_id=seller_id, aggregate_type=aggregate_type, aggregate_id=str(aggregate_id), payload=payload
    )
    # Every change writes one (see core.fastsql); nothing waits for its key, so inside
    # deferred_writes it goes with the change's next statement.
    insert_rows([event], deferred=True)
    # robust: the change has committed by then; a failed publish must not fail the
    # caller, since the sweep relays whatever was not published.
    transaction.on_commit(outbox_relay_soon, robust=True)
    return event


def _cache_is_shared() -> bool:
    """Whether every process sees the same cache (Redis, memcached, a database), as
    production's does; the embedded defaults keep one per process."""
    return not isinstance(caches["default"], LocMemCache | DummyCache)


def outbox_relay_soon(*, trusting: bool = True) -> None:
    """Run after a commit that recorded events: make sure a relay is queued that will
    read them.

    One queued relay serves every commit made before it starts, so under load most
    commits publish nothing (a Celery publish costs more CPU than the rest of an
    order's outbox work). A flag in the shared cache says a relay is queued and has not
    started; the relay clears it before it reads (``outbox_relay_fresh``). So a commit
    that finds the flag set happened before that relay's read, which then sees its
    events; one that finds it clear queues a relay itself. Without a shared cache, every
    commit queues one.

    Under load even the flag is a cache round trip per commit, so a process that found
    a relay queued at time t (the flag set, or set by itself) takes that relay for its
    own commits until t + RELAY_TRUST_SECONDS without asking. That relay had not started
    at t, and it reads once more RELAY_REREAD_SECONDS (more than the trust) after it
    starts, from the first event on: it sees those commits too. A relay queuing another
    for what it leaves (``trusting=False``) always asks."""
    shared = _cache_is_shared()
    asked = time.monotonic()
    if shared and trusting and asked - _relay_found[0] < RELAY_TRUST_SECONDS:
        return
    try:
        queued = shared and not shared_cache.add(RELAY_QUEUED_KEY, 1, timeout=RELAY_QUEUED_SECONDS)
    except Exception:  # the cache is down: publish regardless
        logger.warning("Cache unavailable; queuing an outbox relay without the queued flag", exc_info=True)
        queued = shared = False
    if queued:
        _relay_found[0] = asked
        return
    try:
        outbox_relay_fresh_task.delay()
    except BrokerError:
        # The events are committed; the sweep relays them when the broker is back.
        logger.warning("Broker unavailable; outbox events left for the sweep")
        _relay_flag_clear()  # no relay is queued, so none may be claimed
        return
    if shared:
        _relay_found[0] = asked


# When this process last found a relay queued that had not started (time.monotonic()).
_relay_found = [float("-inf")]


def _relay_flag_clear() -> None:
    """Say no relay is queued. With the cache down the flag cannot be cleared, and
    expires by itself (RELAY_QUEUED_SECONDS); the caller goes on either way."""
    if not _cache_is_shared():
        return
    try:
        shared_cache.delete(RELAY_QUEUED_KEY)
    except Exception:
        logger.warning("Cache unavailable; the outbox relay flag was not cleared", exc_info=True)


def outbox_relay_fresh(*, batch: int = RELAY_BATCH, budget_seconds: float = RELAY_BUDGET_SECONDS) -> int:
    """Dispatch the events no relay has tried yet, oldest first, until none is left
    (see ``outbox_relay_soon``). An event whose handler fails goes on with
    ``outbox_relay_task`` and its backoff. Past the time budget, another relay is queued
    for the rest. Returns how many events it took up."""
    _relay_flag_clear()  # before the first read: see outbox_relay_soon
    started = time.monotonic()
    deadline = started + budget_seconds
    # With a shared cache, commits may count on this relay for a moment after it
    # starts without asking (outbox_relay_soon): it reads once more after that moment.
    reread = _cache_is_shared()
    taken, after = 0, 0
    while True:
        # By id, past the last one taken: an event another worker holds stays untried
        # until it is done and must not be met again. One that commits behind the cursor
        # queues its own relay (the flag was cleared above).
        ids = list(
            OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts=0, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        for event_id in ids:
            # Checked before each event (after the first: a relay always gets on): a
            # handler may take seconds (an email over SMTP), and the task's time limit
            # must not stop one midway.
            if taken and time.monotonic() > deadline:
                outbox_relay_soon(trusting=False)
                return taken
            try:
                outbox_dispatch(event_id=event_id)
            except HandlerFailed:
                outbox_enqueue(event_id=event_id, countdown=1)
            taken += 1
        if len(ids) == batch:
            after = ids[-1]
            continue
        if not reread:
            return taken
        reread = False
        time.sleep(max(0.0, started + RELAY_REREAD_SECONDS - time.monotonic()))
        after = 0  # from the first: an event may commit behind the cursor


def outbox_enqueue(*, event_id: int, countdown: float | None = None) -> None:
    """Relay one event by itself: the sweep's way, and a failed event's retries."""
    try:
        outbox_relay_task.apply_async(kwargs={"event_id": event_id}, countdown=countdown)
    except BrokerError:
        # The event is committed; the sweep relays it when the broker is back.
        logger.warning("Broker unavailable; outbox event %s left for the sweep", event_id)


def outbox_dispatch(*, event_id: int) -> bool:
    """Run every handler of the event that has not finished yet. Returns True when the
    event is fully dispatched. Safe to run twice: finished handlers are skipped and the
    row lock keeps two workers from dispatching one event at once."""
    failures: list[str] = []
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or event.dispatched_at is not None:
            return True
        for name, handler in handlers_for(event.topic).items():
            if name in event.handled:
                continue
            try:
                with transaction.atomic():
                    handler(event)
            except SoftTimeLimitExceeded:
                raise  # the task is out of time: not this handler's failure
            except Exception as exc:
                logger.exception("Outbox handler %s failed for event %s", name, event.pk)
                failures.append(f"{name}: {exc!r}")
            else:
                event.handled.append(name)
        event.attempts += 1
        event.last_error = "\n".join(failures)
        if not failures:
            event.dispatched_at = timezone.now()
        event.save(update_fields=["handled", "attempts", "last_error", "dispatched_at"])
    if failures:
        raise HandlerFailed("; ".join(failures))
    return True


def outbox_pending_ids(*, now=None, limit: int = SWEEP_BATCH) -> list[int]:
    now = now or timezone.now()
    return list(
        OutboxEvent.objects.filter(
            dispatched_at__isnull=True, created_at__lt=now - SWEEP_GRACE, attempts__lt=MAX_ATTEMPTS
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
