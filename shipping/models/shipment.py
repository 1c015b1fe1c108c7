"""Shipments (one per warehouse allocation), their lines, parcels and tracking events,
and the pick waves that group them."""

from django.db import models
from djmoney.models.fields import MoneyField

from core.models import TimeStampedModel
from inventory.models import Product, Stock, Warehouse
from orders.models import Order, OrderLine
from sellers.models import Seller
from shipping.models.carriers import CarrierAccount
from shipping.status import ShipmentStatus, TrackingStatus, WaveStatus


class PickWave(TimeStampedModel):
    """Shipments of one warehouse picked together from one pick list."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveBigIntegerField(help_text="Per-seller, gap-free.")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    carrier = models.ForeignKey(CarrierAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=WaveStatus.choices, default=WaveStatus.OPEN)
    created_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "number"], name="pick_wave_seller_number_unique"),
            models.CheckConstraint(condition=models.Q(status__in=WaveStatus.values), name="pick_wave_status_valid"),
        ]

    def __str__(self):
        return f"Wave {self.number}"


class Shipment(TimeStampedModel):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    number = models.PositiveBigIntegerField(help_text="Per-seller, gap-free.")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="+")
    wave = models.ForeignKey(PickWave, null=True, blank=True, on_delete=models.SET_NULL, related_name="shipments")
    status = models.CharField(max_length=24, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING)
    ship_by = models.DateField(help_text="The warehouse's cut-off decides the day; earlier dates are late.")
    max_transit_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The delivery speed promised at checkout; rate shopping keeps to it."
    )

    carrier = models.ForeignKey(CarrierAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(max_length=64, blank=True)
    service_name = models.CharField(max_length=100, blank=True)
    transit_days = models.PositiveSmallIntegerField(null=True, blank=True)
    postage = MoneyField(max_digits=19, decimal_places=4, null=True, blank=True, default_currency="USD")
    tracking_number = models.CharField(max_length=64, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    label_pdf = models.BinaryField(null=True, blank=True, editable=False)
    label_url = models.URLField(max_length=500, blank=True)
    provider_shipment_id = models.CharField(max_length=64, blank=True, help_text="The carrier's id of the label.")
    provider_tracker_id = models.CharField(max_length=64, blank=True)

    picking_started_at = models.DateTimeField(null=True, blank=True)
    packed_at = models.DateTimeField(null=True, blank=True)
    label_bought_at = models.DateTimeField(null=True, blank=True)
    label_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="What the label was bought for (address and contents); shipping refuses a label that no longer fits.",
    )
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "number"], name="shipment_seller_number_unique"),
            models.CheckConstraint(condition=models.Q(status__in=ShipmentStatus.values), name="shipment_status_valid"),
            models.CheckConstraint(condition=models.Q(postage__gte=0), name="shipment_postage_not_negative"),
        ]
        indexes = [
            models.Index(fields=["seller", "status", "ship_by"], name="shipment_queue_idx"),
            models.Index(fields=["order", "id"], name="shipment_order_idx"),
            models.Index(fields=["tracking_number"], name="shipment_tracking_idx"),
            models.Index(fields=["provider_tracker_id"], name="shipment_tracker_idx"),
        ]

    def __str__(self):
        return f"Shipment {self.number}"

    @property
    def has_label(self) -> bool:
        return bool(self.tracking_number)


class ShipmentLine(models.Model):
    """Units of one product picked from one stock row for one order line. For a kit the
    product is the component actually picked; ``order_line`` is the kit's line."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=64, blank=True)
    bin_location = models.CharField(max_length=32, blank=True)
    quantity = models.PositiveIntegerField()
    quantity_packed = models.PositiveIntegerField(default=0, help_text="Scanned into the box.")

    class Meta:
        ordering = ["bin_location", "sku", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line", "stock"], name="shipment_line_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="shipment_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(quantity_packed__lte=models.F("quantity")), name="shipment_line_packed_within"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"


class Parcel(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels")
    weight_grams = models.PositiveIntegerField()
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(weight_grams__gt=0), name="parcel_weight_positive")]

    def __str__(self):
        return f"{self.weight_grams} g"


class TrackingSource(models.TextChoices):
    LABEL = "label", "Label bought"
    STAFF = "staff", "Staff"
    POLL = "poll", "Carrier polled"
    PUSH = "push", "Carrier pushed"


class TrackingEvent(models.Model):
    """One step of the parcel's journey as a carrier reported it. The same step arriving
    twice (a push and a poll) is stored once."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="tracking_events")
    status = models.CharField(max_length=24, choices=TrackingStatus.choices)
    message = models.CharField(max_length=255, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=TrackingSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "occurred_at", "status", "message"], name="tracking_event_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=TrackingStatus.values), name="tracking_event_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status}"


class CarrierPush(models.Model):
    """A tracking push received from a carrier, by the carrier's event id, so a
    redelivered push is applied once."""

    carrier_kind = models.CharField(max_length=16)
    event_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carrier_kind", "event_id"], name="carrier_push_once")]

    def __str__(self):
        return f"{self.carrier_kind} {self.event_id}"
