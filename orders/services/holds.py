"""Deciding a held order: release it to fulfilment or cancel it, with a comment. Both
resolve every open hold of the order, under the order's row lock, and are events."""

from django.db import transaction
from django.utils import timezone

from core.actor import Actor
from orders.events import order_announce, order_event, status_changed_event
from orders.exceptions import InvalidTransition
from orders.locks import order_lock
from orders.models import EventType, HoldResolution, Order, OrderEvent, OrderHold
from orders.selectors import lifecycle_before_hold
from orders.services.lifecycle import ensure_transition, order_cancel
from orders.status import LIFECYCLE_TRANSITIONS, Lifecycle


def _lock_held_order(*, seller_id: int, order_id: int, requested: Lifecycle) -> Order:
    order = order_lock(seller_id=seller_id, order_id=order_id)
    if order.lifecycle != Lifecycle.ON_HOLD:
        raise InvalidTransition(
            current=order.lifecycle,
            requested=requested,
            message=f"Only an order on hold can be reviewed; this one is {order.lifecycle}.",
        )
    ensure_transition(current=order.lifecycle, requested=requested)
    return order


def _resolve_holds(*, order: Order, resolution: HoldResolution, actor: Actor, comment: str) -> list[dict]:
    """Close the order's open holds; returns what they were, for the event."""
    holds = list(OrderHold.objects.filter(order=order, resolved_at__isnull=True).values("id", "kind", "reason"))
    OrderHold.objects.filter(pk__in=[hold["id"] for hold in holds]).update(
        resolved_at=timezone.now(), resolved_by_id=actor.user_id, resolution=resolution, comment=comment
    )
    return [{"kind": hold["kind"], "reason": hold["reason"]} for hold in holds]


def order_hold_release(*, seller_id: int, order_id: int, actor: Actor, comment: str = "") -> Order:
    """Release a held order: its holds are resolved, it is confirmed and goes on to
    fulfilment with the stock it kept reserved."""
    with transaction.atomic():
        order = _lock_held_order(seller_id=seller_id, order_id=order_id, requested=Lifecycle.CONFIRMED)
        holds = _resolve_holds(order=order, resolution=HoldResolution.RELEASED, actor=actor, comment=comment)
        # An order held while being picked goes back to fulfilment, not to confirmed.
        after = (
            Lifecycle.IN_FULFILLMENT
            if lifecycle_before_hold(order) == Lifecycle.IN_FULFILLMENT
            else Lifecycle.CONFIRMED
        )
        order.lifecycle = after
        order.confirmed_at = order.confirmed_at or timezone.now()
        order.save(update_fields=["lifecycle", "confirmed_at", "updated_at"])
        OrderEvent.objects.bulk_create(
            [
                order_event(
                    order,
                    EventType.HOLD_RELEASED,
                    actor=actor,
                    data={"resolution": HoldResolution.RELEASED, "comment": comment, "holds": holds},
                ),
                order_event(
                    order,
                    EventType.STATUS_CHANGED,
                    actor=actor,
                    data={"field": "lifecycle", "before": Lifecycle.ON_HOLD, "after": after},
                ),
            ]
        )
        order_announce(order, "order.released", comment=comment)
    return order


def order_hold_cancel(*, seller_id: int, order_id: int, actor: Actor, comment: str = "") -> Order:
    """Cancel a held order: its holds are resolved as cancelled and the order is
    cancelled like any other (stock released, ``order.cancelled`` announced), with the
    comment as the reason."""
    with transaction.atomic():
        order = _lock_held_order(seller_id=seller_id, order_id=order_id, requested=Lifecycle.CANCELLED)
        holds = _resolve_holds(order=order, resolution=HoldResolution.CANCELLED, actor=actor, comment=comment)
        # The hold's end is on the timeline as its own event, whichever way it was decided.
        order_event(
            order,
            EventType.HOLD_RELEASED,
            actor=actor,
            data={"resolution": HoldResolution.CANCELLED, "comment": comment, "holds": holds},
        ).save()
        reason = comment or "Cancelled on review"
        return order_cancel(seller_id=seller_id, order_id=order_id, actor=actor, reason=reason)


def order_hold_place(
    *, seller_id: int, order_id: int, kind: str, reason: str, actor: Actor, details: dict | None = None
) -> bool:
    """Hold an order for a person to review (a disputed or failed payment): an open
    hold with the reason and, if the order is not on hold yet, the move to on hold.
    An order past holding (completed, cancelled) keeps its state; returns whether the
    order is held now. Runs in the caller's transaction when there is one."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        before = order.lifecycle
        if before != Lifecycle.ON_HOLD and Lifecycle.ON_HOLD not in LIFECYCLE_TRANSITIONS[before]:
            return False
        OrderHold.objects.create(
            seller_id=order.seller_id, order=order, kind=kind, reason=reason[:255], details=details or {}
        )
        events = [
            order_event(order, EventType.HOLD_PLACED, actor=actor, data={"reasons": [{"kind": kind, "reason": reason}]})
        ]
        if before != Lifecycle.ON_HOLD:
            order.lifecycle = Lifecycle.ON_HOLD
            order.save(update_fields=["lifecycle", "updated_at"])
            events.append(
                status_changed_event(order, before=before, after=Lifecycle.ON_HOLD, actor=actor, reason=reason)
            )
        OrderEvent.objects.bulk_create(events)
        order_announce(order, "order.on_hold", reasons=[{"kind": kind, "reason": reason}])
    return True
