from orders.exceptions import OrderNotFound
from orders.models import Order


def orders_for_update():
    return Order.objects.select_for_update(of=("self",)).order_by("pk")


def order_lock(*, seller_id: int, order_id: int) -> Order:
    """The seller's order, locked until the caller's transaction ends; 404 otherwise."""
    try:
        return orders_for_update().get(pk=order_id, seller_id=seller_id)
    except Order.DoesNotExist as exc:
        raise OrderNotFound() from exc
