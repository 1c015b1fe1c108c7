"""The order's three status axes and the lifecycle transition table, declared here
and nowhere else. Fulfillment is a fact about quantities, so it is derived from the
lines by a pure function, never set by hand."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models


class Lifecycle(models.TextChoices):
    DRAFT = "draft", "Draft"
    PLACED = "placed", "Placed"
    ON_HOLD = "on_hold", "On hold"
    CONFIRMED = "confirmed", "Confirmed"
    IN_FULFILLMENT = "in_fulfillment", "In fulfillment"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


LIFECYCLE_TRANSITIONS: dict[str, frozenset[str]] = {
    Lifecycle.DRAFT: frozenset({Lifecycle.PLACED, Lifecycle.CANCELLED}),
    Lifecycle.PLACED: frozenset({Lifecycle.CONFIRMED, Lifecycle.ON_HOLD, Lifecycle.CANCELLED}),
    # Back to where it was: an order held while being picked returns to fulfilment.
    Lifecycle.ON_HOLD: frozenset(
        {Lifecycle.PLACED, Lifecycle.CONFIRMED, Lifecycle.IN_FULFILLMENT, Lifecycle.CANCELLED}
    ),
    Lifecycle.CONFIRMED: frozenset({Lifecycle.ON_HOLD, Lifecycle.IN_FULFILLMENT, Lifecycle.CANCELLED}),
    # Cancelling once picking started is allowed only while nothing has shipped; the
    # cancel service checks that guard under the row lock.
    Lifecycle.IN_FULFILLMENT: frozenset({Lifecycle.ON_HOLD, Lifecycle.COMPLETED, Lifecycle.CANCELLED}),
    Lifecycle.COMPLETED: frozenset(),
    Lifecycle.CANCELLED: frozenset(),
}

# States in which the order's contents and address may still change.
EDITABLE_LIFECYCLES = frozenset({Lifecycle.DRAFT, Lifecycle.PLACED, Lifecycle.ON_HOLD, Lifecycle.CONFIRMED})


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    AUTHORIZED = "authorized", "Authorized"
    PAID = "paid", "Paid"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    VOIDED = "voided", "Voided"
    FAILED = "failed", "Failed"
    PAID_EXTERNALLY = "paid_externally", "Paid externally"


PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    PaymentStatus.UNPAID: frozenset(
        {PaymentStatus.AUTHORIZED, PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.PAID_EXTERNALLY}
    ),
    PaymentStatus.AUTHORIZED: frozenset({PaymentStatus.PAID, PaymentStatus.VOIDED, PaymentStatus.FAILED}),
    PaymentStatus.PAID: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.PARTIALLY_REFUNDED: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
    PaymentStatus.REFUNDED: frozenset(),
    PaymentStatus.VOIDED: frozenset(),
    PaymentStatus.FAILED: frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.PAID}),
    PaymentStatus.PAID_EXTERNALLY: frozenset({PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED}),
}


class FulfillmentStatus(models.TextChoices):
    UNALLOCATED = "unallocated", "Unallocated"
    BACKORDERED = "backordered", "Backordered"
    ALLOCATED = "allocated", "Allocated"
    PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    PARTIALLY_RETURNED = "partially_returned", "Partially returned"
    RETURNED = "returned", "Returned"


@dataclass(frozen=True, slots=True)
class LineQuantities:
    quantity: int
    allocated: int = 0
    shipped: int = 0
    cancelled: int = 0
    returned: int = 0
    backordered: int = 0


def derive_fulfillment(lines: Iterable[LineQuantities], *, delivered: bool = False) -> FulfillmentStatus:
    """``allocated`` counts open units that have stock reserved, ``backordered`` open
    units waiting for stock (a preorder too)."""
    lines = list(lines)
    active = sum(line.quantity - line.cancelled for line in lines)
    shipped = sum(line.shipped for line in lines)
    returned = sum(line.returned for line in lines)
    allocated = sum(line.allocated for line in lines)
    if returned:
        return FulfillmentStatus.RETURNED if returned >= active else FulfillmentStatus.PARTIALLY_RETURNED
    if active and shipped >= active:
        return FulfillmentStatus.DELIVERED if delivered else FulfillmentStatus.SHIPPED
    if shipped:
        return FulfillmentStatus.PARTIALLY_SHIPPED
    if any(line.backordered for line in lines):
        return FulfillmentStatus.BACKORDERED
    if active and allocated >= active:
        return FulfillmentStatus.ALLOCATED
    if allocated:
        return FulfillmentStatus.BACKORDERED
    return FulfillmentStatus.UNALLOCATED
