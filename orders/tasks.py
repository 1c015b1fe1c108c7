"""Thin tasks: ids in, one service call."""

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def idempotency_records_purge_task() -> int:
    from orders.services.idempotency import idempotency_records_purge

    return idempotency_records_purge()
