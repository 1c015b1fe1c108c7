import uuid

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it announces.

    The relay hands it to every handler registered for its topic (webhook deliveries,
    a higher app's reaction to a lower app's change) after commit; the sweep re-relays
    whatever a broker outage or a crash left behind, so nothing committed is lost.
    ``seller_id`` is a plain column because core imports no app.
    """

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.CharField(max_length=64)
    seller_id = models.BigIntegerField(null=True, blank=True)
    aggregate_type = models.CharField(max_length=32)
    aggregate_id = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    handled = models.JSONField(default=list, help_text="Handlers that have finished with this event.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], name="outbox_pending_idx", condition=models.Q(dispatched_at__isnull=True)
            ),
            models.Index(fields=["seller_id", "topic", "created_at"], name="outbox_seller_topic_idx"),
        ]

    def __str__(self):
        return f"{self.topic} {self.aggregate_type}:{self.aggregate_id}"
