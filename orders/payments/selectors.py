from django.db.models import Prefetch

from orders.exceptions import OrderNotFound
from orders.models import Order
from orders.payments.models import Payment, Refund


def payment_list(*, seller_id: int, order_id: int) -> list[Payment]:
    """The order's payments with their refunds (two queries whatever their number)."""
    if not Order.objects.filter(seller_id=seller_id, pk=order_id).exists():
        raise OrderNotFound()
    return list(
        Payment.objects.filter(seller_id=seller_id, order_id=order_id)
        .order_by("pk")
        .prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("pk")))
    )
