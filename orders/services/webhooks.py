"""Delivering outbound webhooks.

The outbox handler turns a committed domain event into one ``WebhookDelivery`` per
matching subscription and queues a task for each after commit; it does no network I/O.
The task makes one attempt: claim the row in a short transaction, POST with no
transaction open, write the outcome in another short transaction. A failure is retried
with exponential backoff and jitter until the retries run out; then it is abandoned.
"""

import json
import logging
import random
import time
from dataclasses import dataclass
from functools import partial

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from core.models import OutboxEvent
from orders.api.serializers import OrderOutputSerializer
from orders.exceptions import OrderNotFound
from orders.models import WEBHOOK_TOPICS, DeliveryStatus, WebhookDelivery, WebhookSubscription
from orders.selectors import order_get
from orders.tasks import webhook_delivery_attempt_task
from orders.webhook_signing import webhook_signature_header

logger = logging.getLogger(__name__)

USER_AGENT = "Waybill-Webhooks/1"
EXCERPT_LENGTH = WebhookDelivery._meta.get_field("response_excerpt").max_length
ERROR_LENGTH = WebhookDelivery._meta.get_field("last_error").max_length
# A retry must fire well within the broker's visibility timeout (an hour on Redis), or
# the broker hands the waiting message to a second worker.
RETRY_DELAY_CAP_SECONDS = 1800
RETRYABLE = frozenset({DeliveryStatus.FAILED, DeliveryStatus.ABANDONED})


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    retry_in: float | None = None  # seconds until the next attempt; None: no more attempts


@dataclass(frozen=True)
class _Response:
    status: int | None
    excerpt: str
    error: str
    duration_ms: int


def webhook_retry_delay(*, retries: int, base: float | None = None, rng=random.random) -> float:
    """Seconds before retry number ``retries + 1``: the base doubled per earlier retry,
    capped, then a random point in its upper half so a receiver that comes back is not
    hit by every delivery at once."""
    base = settings.WAYBILL_WEBHOOK_RETRY_BASE_SECONDS if base is None else base
    delay = min(RETRY_DELAY_CAP_SECONDS, base * 2**retries)
    return delay / 2 + rng() * delay / 2


def webhook_delivery_enqueue(*, delivery_id: int) -> None:
    try:
        webhook_delivery_attempt_task.delay(delivery_id=delivery_id)
    except BrokerError:
        logger.warning("Broker unavailable; webhook delivery %s waits for a retry from the admin", delivery_id)


def webhook_deliveries_create(event: OutboxEvent) -> None:
    """Outbox handler for every webhook topic. Safe to run twice for one event: the
    (subscription, event) pair is unique, and only a newly created delivery is queued."""
    if event.seller_id is None or event.topic not in WEBHOOK_TOPICS:
        return
    subscriptions = WebhookSubscription.objects.filter(seller_id=event.seller_id, is_active=True).order_by("pk")
    for subscription in subscriptions:
        # Filtered here rather than with a JSON lookup, which SQLite does not offer.
        if event.topic not in subscription.topics:
            continue
        delivery, created = WebhookDelivery.objects.get_or_create(
            subscription=subscription, event=event, defaults={"seller_id": event.seller_id, "topic": event.topic}
        )
        if created:
            transaction.on_commit(partial(webhook_delivery_enqueue, delivery_id=delivery.pk), robust=True)


def webhook_payload(event: OutboxEvent) -> dict:
    """The delivered document: the event's id and topic, and the order as the API
    renders it at the time of the attempt. An event about something of the order's
    (an invoice, a credit note) adds that thing as its payload describes it, under
    its aggregate type."""
    if "order_id" in event.payload:
        order = order_get(seller_id=event.seller_id, order_id=event.payload["order_id"])
        data = {"order": OrderOutputSerializer(order).data}
        if event.aggregate_type != "order" and event.aggregate_type in event.payload:
            data[event.aggregate_type] = event.payload[event.aggregate_type]
    else:
        data = dict(event.payload)
    return {"id": str(event.event_id), "type": event.topic, "created_at": event.created_at.isoformat(), "data": data}


def webhook_request(*, event: OutboxEvent, secret: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(webhook_payload(event), cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Waybill-Event-Id": str(event.event_id),
        "Waybill-Event-Type": event.topic,
        "Waybill-Timestamp": str(timestamp),
        "Waybill-Signature": webhook_signature_header(secret, timestamp, body),
    }
    return body, headers


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Count the attempt before making it, so a worker that dies mid-request still
    leaves a trace. None when there is nothing to send."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.ABANDONED):
            return None
        delivery.attempts += 1
        delivery.save(update_fields=["attempts", "updated_at"])
    return delivery


def _post(*, url: str, body: bytes, headers: dict[str, str]) -> _Response:
    timeout = settings.WAYBILL_WEBHOOK_TIMEOUT_SECONDS
    started = time.monotonic()
    status, excerpt, error = None, "", ""
    try:
        # trust_env off: a proxy from the worker's environment must not see signed order data.
        with (
            httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False) as client,
            client.stream("POST", url, content=body, headers=headers) as response,
        ):
            status = response.status_code
            received = b""
            for chunk in response.iter_bytes():
                received += chunk
                if len(received) >= EXCERPT_LENGTH:
                    break
            excerpt = received[:EXCERPT_LENGTH].decode("utf-8", errors="replace")
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    if status is not None and not 200 <= status < 300:
        error = f"HTTP {status}"
    return _Response(status=status, excerpt=excerpt, error=error[:ERROR_LENGTH], duration_ms=duration_ms)


def _finish(delivery: WebhookDelivery, *, status: str, response: _Response | None = None, error: str = "") -> None:
    fields = {"status": status, "updated_at": timezone.now()}
    if response is not None:
        fields.update(
            response_status=response.status,
            response_excerpt=response.excerpt,
            duration_ms=response.duration_ms,
            last_error=response.error,
        )
    else:
        fields["last_error"] = error[:ERROR_LENGTH]
    if status == DeliveryStatus.SUCCEEDED:
        fields["delivered_at"] = fields["updated_at"]
    with transaction.atomic():
        # Never overwrite a success another attempt recorded meanwhile.
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=DeliveryStatus.SUCCEEDED).update(**fields)


def webhook_delivery_attempt(*, delivery_id: int, retries: int = 0) -> DeliveryOutcome:
    """One attempt to deliver. ``retries`` is how many retries came before this one;
    the outcome says whether and when to try again."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return DeliveryOutcome(status="skipped")
    subscription = delivery.subscription
    if not subscription.is_active:
        _finish(delivery, status=DeliveryStatus.ABANDONED, error="The subscription is inactive.")
        return DeliveryOutcome(status=DeliveryStatus.ABANDONED)
    try:
        body, headers = webhook_request(event=delivery.event, secret=subscription.secret, timestamp=int(time.time()))
    except OrderNotFound:
        _finish(delivery, status=DeliveryStatus.ABANDONED, error="The order no longer exists.")
        return DeliveryOutcome(status=DeliveryStatus.ABANDONED)

    response = _post(url=subscription.url, body=body, headers=headers)

    if response.status is not None and 200 <= response.status < 300:
        _finish(delivery, status=DeliveryStatus.SUCCEEDED, response=response)
        return DeliveryOutcome(status=DeliveryStatus.SUCCEEDED)
    if response.status == 410:
        # 410 Gone: the receiver says the endpoint is retired; stop sending to it.
        WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=False, updated_at=timezone.now())
        _finish(delivery, status=DeliveryStatus.ABANDONED, response=response)
        return DeliveryOutcome(status=DeliveryStatus.ABANDONED)
    if retries >= settings.WAYBILL_WEBHOOK_MAX_RETRIES:
        _finish(delivery, status=DeliveryStatus.ABANDONED, response=response)
        return DeliveryOutcome(status=DeliveryStatus.ABANDONED)
    _finish(delivery, status=DeliveryStatus.FAILED, response=response)
    return DeliveryOutcome(status=DeliveryStatus.FAILED, retry_in=webhook_retry_delay(retries=retries))


def webhook_delivery_retry(*, seller_id: int, delivery_id: int) -> bool:
    """Queue one more round of attempts for a failed or abandoned delivery (a staff
    decision, e.g. after the receiver was fixed). False when it does not qualify."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id, seller_id=seller_id)
            .first()
        )
        if delivery is None or delivery.status not in RETRYABLE or not delivery.subscription.is_active:
            return False
        delivery.status = DeliveryStatus.PENDING
        delivery.save(update_fields=["status", "updated_at"])
        transaction.on_commit(partial(webhook_delivery_enqueue, delivery_id=delivery.pk), robust=True)
    return True
