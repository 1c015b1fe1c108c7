from core.actor import Actor
from core.outbox import outbox_record
from orders.models import EventType, Order, OrderEvent


def order_event(order: Order, type: EventType, *, actor: Actor, data: dict | None = None) -> OrderEvent:
    """An unsaved event, for services that write several at once with bulk_create."""
    return OrderEvent(
        seller_id=order.seller_id,
        order=order,
        type=type,
        actor_kind=actor.kind,
        actor_label=actor.label,
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        data=data or {},
    )


def status_changed_event(order: Order, *, before: str, after: str, actor: Actor, reason: str = "") -> OrderEvent:
    """An unsaved lifecycle change event."""
    data = {"field": "lifecycle", "before": before, "after": after}
    if reason:
        data["reason"] = reason
    return order_event(order, EventType.STATUS_CHANGED, actor=actor, data=data)


def order_announce(order: Order, topic: str, **details) -> None:
    """Announce a change of the order through the outbox (webhooks, emails and other
    apps' handlers), in the caller's transaction."""
    outbox_record(
        topic=topic,
        seller_id=order.seller_id,
        aggregate_type="order",
        aggregate_id=order.pk,
        payload={"order_id": order.pk, "number": order.number, **details},
    )
