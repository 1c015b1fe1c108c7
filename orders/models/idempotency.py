from django.db import models

from orders.models.order import Order
from sellers.models import Seller


class IdempotencyRecord(models.Model):
    """The first successful response to a request sent with an ``Idempotency-Key``.
    Written in the same transaction as the order, so a retry either finds it or, if the
    first attempt rolled back, runs again; concurrent duplicates wait on the unique key."""

    # Served by the unique (seller, key) index: no index of its own.
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "key"], name="idempotency_seller_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self):
        return self.key
