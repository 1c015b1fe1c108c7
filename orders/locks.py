from orders.models import Order


def orders_for_update():
    return Order.objects.select_for_update(of=("self",)).order_by("pk")
