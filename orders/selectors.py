from collections import defaultdict
from functools import cache

from django.db.models import Prefetch, QuerySet
from djmoney.models.fields import MoneyField
from djmoney.models.managers import add_money_comprehension_to_queryset

from orders.exceptions import OrderNotFound
from orders.models import Allocation, EventType, Order, OrderEvent, OrderLine
from orders.status import Lifecycle


def _with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.order_by("position").prefetch_related(
                Prefetch("allocations", queryset=Allocation.objects.select_related("stock__warehouse"))
            ),
        )
    )


def order_has_shipped(order: Order, lines: list[OrderLine]) -> bool:
    """Whether anything of the order has left a warehouse: a shipped unit, or a shipped
    parcel that carried only part of a kit (a kit line counts whole kits shipped, so it
    can say 0 while components are on their way)."""
    return any(line.quantity_shipped for line in lines) or (
        OrderEvent.objects.filter(order=order, type=EventType.SHIPMENT_SHIPPED).exists()
    )


def order_attach_written(order: Order, lines: list[OrderLine], allocations: list[Allocation]) -> Order:
    """Give an order just written the related rows ``_with_lines`` would prefetch, from
    the objects that wrote them, so rendering it reads nothing back. Fills the cache
    prefetch_related fills (``_prefetched_objects_cache``, keyed by relation name);
    the allocations carry their locked stock rows with warehouses loaded."""
    per_line: dict[int, list[Allocation]] = defaultdict(list)
    for allocation in allocations:
        per_line[allocation.line_id].append(allocation)
    for line in lines:
        _prefetched(line, "allocations", per_line[line.pk])
    _prefetched(order, "lines", sorted(lines, key=lambda line: line.position))
    return order


def _prefetched(instance, relation: str, rows: list) -> None:
    """What prefetch_related_objects does per object: the relation's queryset with its
    result cache filled, so .all() reads nothing and .filter()/.get() still query.

    Built as Django's prefetch builds it with a Prefetch queryset: the relation's
    filter applied to a bare queryset, which django-money then teaches its Money
    lookups. The manager's own get_queryset() would have django-money wrap the
    queryset's methods twice over (before and after the filter): 30 µs for an order's
    lines, on every order placed. (The models have no manager of their own to bypass.)"""
    manager = getattr(instance, relation)
    queryset = manager._apply_rel_filters(QuerySet(manager.model))
    if _has_money(manager.model):
        queryset = add_money_comprehension_to_queryset(queryset)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


@cache
def _has_money(model) -> bool:
    return any(isinstance(field, MoneyField) for field in model._meta.concrete_fields)


def order_list(*, seller_id: int) -> QuerySet[Order]:
    return _with_lines(Order.objects.filter(seller_id=seller_id))


def order_get(*, seller_id: int, order_id: int) -> Order:
    order = _with_lines(Order.objects.filter(seller_id=seller_id, pk=order_id)).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_events_list(*, seller_id: int, order_id: int) -> list[OrderEvent]:
    if not Order.objects.filter(seller_id=seller_id, pk=order_id).exists():
        raise OrderNotFound()
    return list(OrderEvent.objects.filter(order_id=order_id).order_by("id"))


def lifecycle_before_hold(order: Order) -> str | None:
    """Where a held order was when it was put on hold (its last move to on_hold), so a
    release returns it there and an order that was being picked is not treated as one
    that was merely confirmed."""
    if order.lifecycle != Lifecycle.ON_HOLD:
        return None
    data = (
        OrderEvent.objects.filter(order=order, type=EventType.STATUS_CHANGED, data__after=Lifecycle.ON_HOLD)
        .order_by("-id")
        .values_list("data", flat=True)
        .first()
    )
    return (data or {}).get("before")
