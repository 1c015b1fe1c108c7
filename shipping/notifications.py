"""The customer's "your order has shipped" email, sent by the worker from the
``shipment.shipped`` outbox event after the shipment committed."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from core.models import OutboxEvent
from orders.models import DeliveryMethod, Order
from orders.notifications import CHANNELS_WE_EMAIL
from shipping.models import Shipment


def shipment_shipped_email(event: OutboxEvent) -> None:
    shipment = (
        Shipment.objects.select_related("order__seller", "carrier")
        .filter(pk=event.payload["shipment_id"], seller_id=event.seller_id)
        .first()
    )
    if shipment is None:
        return
    order: Order = shipment.order
    seller = order.seller
    if not (order.customer_email and seller.notify_customers and order.channel in CHANNELS_WE_EMAIL):
        return
    if order.delivery_method == DeliveryMethod.PICKUP:
        return  # collected at the counter: the customer has it in hand
    body = render_to_string(
        "shipping/email/shipment_shipped.txt",
        {
            "order": order,
            "seller": seller,
            "shipment": shipment,
            "carrier_name": shipment.carrier.name if shipment.carrier_id else "our carrier",
            "lines": _lines_by_order_line(shipment, event),
            "everything_shipped": order.fulfillment_status in ("shipped", "delivered"),
        },
    )
    EmailMessage(
        subject=f"{seller.name}: order #{order.number} has shipped ({shipment.tracking_number})",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.customer_email],
        reply_to=[seller.support_email] if seller.support_email else None,
        headers={"X-Waybill-Event": str(event.event_id)},
    ).send()


def _lines_by_order_line(shipment: Shipment, event: OutboxEvent) -> list[dict]:
    """What the customer ordered, not the components picked: a kit shows as the kit."""
    shipped = {entry["line_id"]: entry["quantity"] for entry in event.payload.get("lines", [])}
    lines = shipment.order.lines.filter(pk__in=shipped).order_by("position")
    return [{"quantity": shipped[line.pk], "name": line.name, "sku": line.sku} for line in lines]
