"""Customer emails, sent by the worker from outbox events after the change committed."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from core.models import OutboxEvent
from orders.models import Channel, Order

# Marketplaces email their own buyers; a second email from us would confuse them.
CHANNELS_WE_EMAIL = frozenset({Channel.STOREFRONT, Channel.MANUAL, Channel.POS})


def _customer_email(event: OutboxEvent, *, template: str, subject: str) -> None:
    order = Order.objects.select_related("seller", "pickup_warehouse").get(
        pk=event.payload["order_id"], seller_id=event.seller_id
    )
    seller = order.seller
    if not (order.customer_email and seller.notify_customers and order.channel in CHANNELS_WE_EMAIL):
        return
    body = render_to_string(
        template,
        {
            "order": order,
            "seller": seller,
            "lines": list(order.lines.order_by("position")),
            "location": order.pickup_warehouse,
        },
    )
    EmailMessage(
        subject=subject.format(seller=seller.name, number=order.number),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer_email],
        reply_to=[seller.support_email] if seller.support_email else None,
        headers={"X-Waybill-Event": str(event.event_id)},
    ).send()


def order_confirmation_send(event: OutboxEvent) -> None:
    _customer_email(event, template="orders/email/order_confirmation.txt", subject="{seller}: order #{number} received")


def order_ready_for_pickup_send(event: OutboxEvent) -> None:
    _customer_email(
        event, template="orders/email/ready_for_pickup.txt", subject="{seller}: order #{number} is ready for pickup"
    )
