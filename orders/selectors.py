from django.db.models import Prefetch, QuerySet

from orders.exceptions import OrderNotFound
from orders.models import Allocation, Order, OrderEvent, OrderLine


def _with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related(
        Prefetch(
            "lines",
            queryset=OrderLine.objects.order_by("position").prefetch_related(
                Prefetch("allocations", queryset=Allocation.objects.select_related("stock__warehouse"))
            ),
        )
    )


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
