"""Thin tasks: ids in, one service call. Services are imported inside the tasks because
they import this module to enqueue (the one accepted function-level import)."""

from celery import shared_task

from shipping.exceptions import CarrierError


@shared_task(
    acks_late=True,
    autoretry_for=(CarrierError,),
    max_retries=6,
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    soft_time_limit=60,
    time_limit=90,
)
def label_void_task(*, shipment_id: int) -> None:
    """Void the label of a shipment whose order was cancelled."""
    from core.actor import Actor
    from shipping.models import Shipment
    from shipping.services.labels import shipment_label_void

    shipment = Shipment.objects.filter(pk=shipment_id).values("seller_id", "tracking_number").first()
    if shipment and shipment["tracking_number"]:
        shipment_label_void(
            seller_id=shipment["seller_id"], shipment_id=shipment_id, actor=Actor.system("order cancelled")
        )


@shared_task(acks_late=True, soft_time_limit=240, time_limit=300)
def tracking_poll_task() -> int:
    """Ask the carriers that do not push for news of the parcels on their way."""
    from shipping.services.tracking import tracking_poll_due

    return tracking_poll_due()
