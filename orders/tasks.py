"""Thin tasks: ids in, one service call."""

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def idempotency_records_purge_task() -> int:
    from orders.services.idempotency import idempotency_records_purge

    return idempotency_records_purge()


@shared_task(bind=True, acks_late=True, max_retries=None, soft_time_limit=30, time_limit=45)
def webhook_delivery_attempt_task(self, *, delivery_id: int) -> str:
    from orders.services.webhooks import webhook_delivery_attempt

    outcome = webhook_delivery_attempt(delivery_id=delivery_id, retries=self.request.retries)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status
