from django.conf import settings
from django.db import models

from orders.models.order import Order
from sellers.models import ApiKey, Seller


class EventType(models.TextChoices):
    PLACED = "placed", "Order placed"
    STATUS_CHANGED = "status_changed", "Status changed"
    PAYMENT_STATUS_CHANGED = "payment_status_changed", "Payment status changed"
    FULFILLMENT_STATUS_CHANGED = "fulfillment_status_changed", "Fulfillment status changed"
    STOCK_ALLOCATED = "stock_allocated", "Stock allocated"
    STOCK_RELEASED = "stock_released", "Stock released"
    CANCELLED = "cancelled", "Order cancelled"
    LINE_CANCELLED = "line_cancelled", "Line cancelled"
    ADDRESS_CHANGED = "address_changed", "Shipping address changed"
    HOLD_PLACED = "hold_placed", "Put on hold"
    HOLD_RELEASED = "hold_released", "Hold released"
    NOTE_ADDED = "note_added", "Note added"
    BACKORDERED = "backordered", "Backordered"
    BACKORDER_ALLOCATED = "backorder_allocated", "Backorder allocated"
    REROUTED = "rerouted", "Re-routed"
    ALLOCATION_OVERRIDDEN = "allocation_overridden", "Allocation overridden"
    READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
    PAYMENT_AUTHORIZED = "payment_authorized", "Payment authorized"
    PAYMENT_CAPTURED = "payment_captured", "Payment captured"
    PAYMENT_VOIDED = "payment_voided", "Payment voided"
    PAYMENT_REFUNDED = "payment_refunded", "Payment refunded"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    DISPUTE_OPENED = "dispute_opened", "Payment disputed"
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    CREDIT_NOTE_ISSUED = "credit_note_issued", "Credit note issued"
    SHIPMENT_CREATED = "shipment_created", "Shipment created"
    SHIPMENT_STATUS_CHANGED = "shipment_status_changed", "Shipment status changed"
    SHIPMENT_SHIPPED = "shipment_shipped", "Shipment shipped"
    TRACKING_UPDATED = "tracking_updated", "Tracking updated"
    DELIVERED = "delivered", "Delivered"


class OrderEvent(models.Model):
    """The audit trail: who changed what and when, with before/after in ``data``.
    Written in the same transaction as the change; never updated or deleted (a
    PostgreSQL trigger refuses both)."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    # Served by order_event_order_idx, which starts with it: no index of its own.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events", db_index=False)
    type = models.CharField(max_length=32, choices=EventType.choices)
    actor_kind = models.CharField(max_length=16)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(type__in=EventType.values), name="order_event_type_valid")
        ]
        indexes = [models.Index(fields=["order", "id"], name="order_event_order_idx")]

    def __str__(self):
        return f"{self.get_type_display()} by {self.actor_label}"
