"""A shipment's status flow, declared here and nowhere else, checked under the row lock."""

from django.db import models


class ShipmentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PICKING = "picking", "Picking"
    PACKED = "packed", "Packed"
    SHIPPED = "shipped", "Shipped"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    EXCEPTION = "exception", "Exception"
    RETURNED_TO_SENDER = "returned_to_sender", "Returned to sender"
    CANCELLED = "cancelled", "Cancelled"


S = ShipmentStatus

SHIPMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PICKING, S.CANCELLED}),
    # Back to pending when a picker gives the shipment back (say, a bin was empty).
    S.PICKING: frozenset({S.PACKED, S.PENDING, S.CANCELLED}),
    # Back to picking when a packed box is opened again.
    S.PACKED: frozenset({S.SHIPPED, S.PICKING, S.CANCELLED}),
    S.SHIPPED: frozenset({S.IN_TRANSIT, S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER}),
    S.IN_TRANSIT: frozenset({S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER}),
    S.EXCEPTION: frozenset({S.IN_TRANSIT, S.DELIVERED, S.RETURNED_TO_SENDER}),
    S.DELIVERED: frozenset(),
    S.RETURNED_TO_SENDER: frozenset(),
    S.CANCELLED: frozenset(),
}

# Not yet handed to a carrier: the shipment's units are still allocated in stock.
OPEN_STATUSES = frozenset({S.PENDING, S.PICKING, S.PACKED})
# Handed to a carrier: tracking updates apply.
IN_CARRIER_STATUSES = frozenset({S.SHIPPED, S.IN_TRANSIT, S.EXCEPTION})
# Left the warehouse (whatever happened to it since).
SHIPPED_STATUSES = frozenset({S.SHIPPED, S.IN_TRANSIT, S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER})
# A label may be bought or voided only before the parcel leaves.
LABEL_STATUSES = frozenset({S.PENDING, S.PICKING, S.PACKED})


class TrackingStatus(models.TextChoices):
    """A carrier's tracking status, normalised (EasyPost's vocabulary, which most
    aggregators share)."""

    PRE_TRANSIT = "pre_transit", "Label created"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    AVAILABLE_FOR_PICKUP = "available_for_pickup", "Available for pickup"
    DELIVERED = "delivered", "Delivered"
    RETURN_TO_SENDER = "return_to_sender", "Returned to sender"
    FAILURE = "failure", "Delivery failed"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Carrier error"
    UNKNOWN = "unknown", "Unknown"


# What a tracking status means for the shipment; None: no change.
TRACKING_TO_SHIPMENT: dict[str, str | None] = {
    TrackingStatus.PRE_TRANSIT: None,
    TrackingStatus.IN_TRANSIT: S.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: S.IN_TRANSIT,
    TrackingStatus.AVAILABLE_FOR_PICKUP: S.IN_TRANSIT,
    TrackingStatus.DELIVERED: S.DELIVERED,
    TrackingStatus.RETURN_TO_SENDER: S.RETURNED_TO_SENDER,
    TrackingStatus.FAILURE: S.EXCEPTION,
    TrackingStatus.CANCELLED: S.EXCEPTION,
    TrackingStatus.ERROR: S.EXCEPTION,
    TrackingStatus.UNKNOWN: None,
}


class WaveStatus(models.TextChoices):
    OPEN = "open", "Open (picking)"
    DONE = "done", "Done"
