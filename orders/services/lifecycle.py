"""Lifecycle changes after placement. Each locks the order row, checks the transition
table under that lock, writes the change and its events in one transaction, and
announces it through the outbox."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.actor import Actor
from orders.events import order_announce, order_event, status_changed_event
from orders.exceptions import InvalidTransition
from orders.locks import order_lock
from orders.models import Allocation, EventType, HoldResolution, Order, OrderEvent, OrderHold, OrderLine
from orders.selectors import order_has_shipped
from orders.services.allocation import stock_give_back
from orders.status import LIFECYCLE_TRANSITIONS, FulfillmentStatus, Lifecycle

LIFECYCLE_TIMESTAMPS = {
    Lifecycle.CONFIRMED: "confirmed_at",
    Lifecycle.CANCELLED: "cancelled_at",
    Lifecycle.COMPLETED: "completed_at",
}


def ensure_transition(*, current: str, requested: str) -> None:
    if requested not in LIFECYCLE_TRANSITIONS[current]:
        raise InvalidTransition(current=current, requested=requested)


def order_transition(*, seller_id: int, order_id: int, to: Lifecycle, actor: Actor, reason: str = "") -> Order:
    """Move an order along the lifecycle where no other work is involved (confirm a
    placed order, put one on hold, complete it). Cancelling has its own service."""
    if to == Lifecycle.CANCELLED:
        return order_cancel(seller_id=seller_id, order_id=order_id, actor=actor, reason=reason)
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        before = order.lifecycle
        ensure_transition(current=before, requested=to)
        if before == Lifecycle.ON_HOLD and OrderHold.objects.filter(order=order, resolved_at__isnull=True).exists():
            # Leaving a risk hold is a reviewed decision that resolves the holds.
            raise InvalidTransition(
                current=before,
                requested=to,
                message="An order held by risk checks is released from the holds to review.",
            )
        order.lifecycle = to
        fields = ["lifecycle", "updated_at"]
        if stamp := LIFECYCLE_TIMESTAMPS.get(to):
            setattr(order, stamp, timezone.now())
            fields.append(stamp)
        order.save(update_fields=fields)
        status_changed_event(order, before=before, after=to, actor=actor, reason=reason).save()
        order_announce(order, "order.updated", lifecycle=to)
    return order


def order_cancelled_mark(order: Order, *, actor: Actor, reason: str) -> None:
    """Mark the locked order cancelled, whichever way its last open unit went (the
    whole order, or its last line): the lifecycle, when and why, and its open holds
    resolved, since nothing is left to review. The caller saves the order."""
    if order.lifecycle == Lifecycle.ON_HOLD:
        OrderHold.objects.filter(order=order, resolved_at__isnull=True).update(
            resolved_at=timezone.now(),
            resolved_by_id=actor.user_id,
            resolution=HoldResolution.CANCELLED,
            comment=reason,
        )
    order.lifecycle = Lifecycle.CANCELLED
    order.cancelled_at = timezone.now()
    order.cancel_reason = reason[:255]


def order_cancel(*, seller_id: int, order_id: int, actor: Actor, reason: str = "") -> Order:
    """Cancel a whole order before anything ships: release its stock, mark every open
    unit cancelled, and record what was released from where."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        before = order.lifecycle
        ensure_transition(current=before, requested=Lifecycle.CANCELLED)
        lines = list(OrderLine.objects.filter(order=order))
        if order_has_shipped(order, lines):
            raise InvalidTransition(
                current=before,
                requested=Lifecycle.CANCELLED,
                message="Part of this order has shipped; cancel the open lines instead.",
            )
        allocations = list(Allocation.objects.filter(line__order=order).select_related("stock", "line"))
        if allocations:
            stock_give_back((a.stock, a.quantity) for a in allocations)
            Allocation.objects.filter(pk__in=[a.pk for a in allocations]).delete()
        OrderLine.objects.filter(order=order).update(
            quantity_cancelled=F("quantity") - F("quantity_shipped"), quantity_backordered=0
        )
        order_cancelled_mark(order, actor=actor, reason=reason)
        order.fulfillment_status = FulfillmentStatus.UNALLOCATED
        order.save(update_fields=["lifecycle", "cancelled_at", "cancel_reason", "fulfillment_status", "updated_at"])
        events = [status_changed_event(order, before=before, after=Lifecycle.CANCELLED, actor=actor, reason=reason)]
        if allocations:
            events.append(
                order_event(
                    order,
                    EventType.STOCK_RELEASED,
                    actor=actor,
                    data={
                        "lines": [
                            {"sku": a.line.sku, "warehouse_id": a.stock.warehouse_id, "quantity": a.quantity}
                            for a in allocations
                        ]
                    },
                )
            )
        OrderEvent.objects.bulk_create(events)
        order_announce(order, "order.cancelled", reason=reason)
    return order
