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


# Routing work started by inventory's events. The outbox handlers only queue these, so
# each order is filled or re-routed in its own short transaction, not inside the
# dispatch's (which would hold every order's and stock row's lock to the end).
@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def backorders_fill_task(*, seller_id: int, product_ids: list[int]) -> int:
    from orders.services.allocation import backorders_fill

    return backorders_fill(seller_id=seller_id, product_ids=product_ids)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def stock_shortfall_reconcile_task(*, stock_id: int) -> int:
    from orders.services.allocation import stock_shortfall_reconcile

    return stock_shortfall_reconcile(stock_id=stock_id)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def warehouse_orders_reroute_task(*, warehouse_id: int) -> int:
    from orders.services.allocation import warehouse_orders_reroute

    return warehouse_orders_reroute(warehouse_id=warehouse_id)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def backorders_sweep_task() -> int:
    from orders.services.allocation import backorders_sweep

    return backorders_sweep()
