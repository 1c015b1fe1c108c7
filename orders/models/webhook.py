"""Outbound webhooks: what a seller subscribed to, and every attempt to deliver it."""

from django.db import models

from core.models import OutboxEvent, TimeStampedModel
from sellers.models import Seller

WEBHOOK_TOPICS = (
    "order.created",
    "order.updated",
    "order.cancelled",
    "order.on_hold",
    "order.released",
    "order.ready_for_pickup",
    "shipment.shipped",
    "shipment.delivered",
    "shipment.exception",
    "invoice.issued",
    "credit_note.issued",
)


class WebhookSubscription(TimeStampedModel):
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=500)
    topics = models.JSONField(default=list, help_text="Event topics to deliver, e.g. order.created.")
    secret = models.CharField(max_length=64, help_text="Signs every delivery (HMAC-SHA256).")
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        indexes = [models.Index(fields=["seller", "is_active"], name="webhook_sub_seller_idx")]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed, will retry"
    ABANDONED = "abandoned", "Abandoned after the last retry"


class WebhookDelivery(TimeStampedModel):
    """One event for one subscription: created once, attempted until it succeeds or the
    retries run out. The unique pair makes a re-relayed event a no-op."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.PROTECT, related_name="+")
    topic = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once"),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["seller", "created_at"], name="webhook_delivery_seller_idx")]

    def __str__(self):
        return f"{self.topic} → {self.subscription_id} ({self.status})"
