"""Thin tasks: ids in, one service call. The service module is imported inside the task
because it imports this module to enqueue (the one accepted function-level import)."""

from celery import shared_task

from core.exceptions import HandlerFailed


@shared_task(
    acks_late=True,
    autoretry_for=(HandlerFailed,),
    max_retries=8,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    soft_time_limit=60,
    time_limit=90,
)
def outbox_relay_task(*, event_id: int) -> None:
    from core.outbox import outbox_dispatch

    outbox_dispatch(event_id=event_id)


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def outbox_relay_fresh_task() -> int:
    from core.outbox import outbox_relay_fresh

    return outbox_relay_fresh()


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def outbox_sweep_task() -> int:
    from core.outbox import outbox_enqueue, outbox_pending_ids

    pending = outbox_pending_ids()
    for event_id in pending:
        outbox_enqueue(event_id=event_id)
    return len(pending)
