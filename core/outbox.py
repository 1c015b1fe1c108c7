"""The transactional outbox: record a domain event with the change, relay it after
commit, let registered handlers react. Handlers are registered by each app's
AppConfig.ready(), so a lower app can start a higher app's work without importing it.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.exceptions import HandlerFailed
from core.fastsql import insert_rows
from core.models import OutboxEvent
from core.tasks import outbox_relay_task

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxEvent], None]
_handlers: dict[str, dict[str, Handler]] = {}

MAX_ATTEMPTS = 20
SWEEP_GRACE = timedelta(seconds=10)
SWEEP_BATCH = 500


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
    insert_rows([event])  # every change writes one: see core.fastsql
    # robust: the change has committed by then; a failed publish must not fail the
    # caller, since the sweep relays whatever was not published.
    transaction.on_commit(partial(outbox_enqueue, event_id=event.pk), robust=True)
    return event


def outbox_enqueue(*, event_id: int) -> None:
    try:
        outbox_relay_task.delay(event_id=event_id)
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
