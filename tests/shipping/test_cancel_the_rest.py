"""Once part of an order has shipped or is being picked, the units still waiting for
stock can be cancelled (a backorder that will not come); what the warehouse has in hand
cannot."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import OutboxEvent
from inventory.models import BackorderPolicy, Stock
from orders.exceptions import InvalidOrder, OrderNotEditable
from orders.invoicing.handlers import on_line_cancelled, on_payment_refunded
from orders.invoicing.models import CreditNote
from orders.invoicing.services import invoice_issue
from orders.models import EventType, Order
from orders.services.changes import order_line_cancel
from orders.status import FulfillmentStatus, Lifecycle
from shipping.carriers.base import TrackingUpdate
from shipping.models import Shipment, TrackingSource
from shipping.services.labels import shipment_label_buy
from shipping.services.shipments import shipment_pick_start, shipment_ship
from shipping.services.tracking import tracking_apply
from shipping.status import TrackingStatus
from tests.routing.outbox import dispatch
from tests.shipping.conftest import STAFF, packed, placed

pytestmark = pytest.mark.django_db


@pytest.fixture
def part_shipped(shop, table_carrier):
    """12 MUGs ordered with 10 in stock: 10 shipped, 2 waiting."""
    shop["mug"].backorder_policy = BackorderPolicy.ALLOW
    shop["mug"].save()
    order = placed(shop, [("MUG", 12)])
    shipment = Shipment.objects.get(order=order)
    packed(shipment)
    shipment_label_buy(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF, carrier_id=table_carrier.pk)
    shipment_ship(seller_id=order.seller_id, shipment_id=shipment.pk, actor=STAFF)
    line = order.lines.get()
    line.refresh_from_db()
    assert (line.quantity_shipped, line.quantity_backordered) == (10, 2)
    return Order.objects.get(pk=order.pk)


def test_the_waiting_rest_of_a_part_shipped_order_can_be_cancelled_and_the_order_completes(part_shipped):
    order = part_shipped
    total_before = order.total

    order = order_line_cancel(
        seller_id=order.seller_id,
        order_id=order.pk,
        line_id=order.lines.get().pk,
        quantity=None,
        actor=STAFF,
        reason="Discontinued by the maker",
    )

    order.refresh_from_db()
    line = order.lines.get()
    assert (line.quantity_shipped, line.quantity_cancelled, line.quantity_backordered) == (10, 2, 0)
    assert order.lifecycle == Lifecycle.COMPLETED and order.completed_at is not None
    assert order.fulfillment_status == FulfillmentStatus.SHIPPED
    assert order.subtotal == line.unit_price * 10 and order.total < total_before
    assert order.events.filter(type=EventType.LINE_CANCELLED).count() == 1
    announced = OutboxEvent.objects.filter(topic="order.updated", aggregate_id=str(order.pk)).order_by("pk").last()
    assert announced.payload["change"] == "line_cancelled" and announced.payload["lifecycle"] == Lifecycle.COMPLETED
    assert Decimal(announced.payload["amount_cancelled"]) == (total_before - order.total).amount


def test_only_waiting_units_can_go_once_picking_started(shop):
    shop["mug"].backorder_policy = BackorderPolicy.ALLOW
    shop["mug"].save()
    order = placed(shop, [("MUG", 12)])
    shipment_pick_start(seller_id=order.seller_id, shipment_id=Shipment.objects.get(order=order).pk, actor=STAFF)
    line = order.lines.get()

    with pytest.raises(InvalidOrder) as refused:
        order_line_cancel(seller_id=order.seller_id, order_id=order.pk, line_id=line.pk, quantity=3, actor=STAFF)
    assert refused.value.details == {"quantity": ["Must be between 1 and the 2 units waiting for stock."]}

    order = order_line_cancel(seller_id=order.seller_id, order_id=order.pk, line_id=line.pk, quantity=2, actor=STAFF)

    order.refresh_from_db()
    line.refresh_from_db()
    assert (line.quantity_cancelled, line.quantity_backordered) == (2, 0)
    assert order.lifecycle == Lifecycle.IN_FULFILLMENT  # the 10 picked units still go
    assert Stock.objects.get(product__sku="MUG").allocated == 10
    with pytest.raises(OrderNotEditable):
        order_line_cancel(seller_id=order.seller_id, order_id=order.pk, line_id=line.pk, quantity=1, actor=STAFF)


def test_an_order_whose_parcels_all_arrived_is_delivered_once_its_waiting_rest_is_cancelled(part_shipped):
    order = part_shipped
    shipment = Shipment.objects.get(order=order)
    arrived = timezone.now() - timedelta(hours=3)
    tracking_apply(
        seller_id=order.seller_id,
        shipment_id=shipment.pk,
        updates=[TrackingUpdate(status=TrackingStatus.DELIVERED, message="Delivered", occurred_at=arrived)],
        source=TrackingSource.PUSH,
        actor=STAFF,
    )
    order.refresh_from_db()
    assert order.delivered_at is None  # two units still to come

    order_line_cancel(
        seller_id=order.seller_id, order_id=order.pk, line_id=order.lines.get().pk, quantity=None, actor=STAFF
    )

    order.refresh_from_db()
    assert order.lifecycle == Lifecycle.COMPLETED
    assert (order.fulfillment_status, order.delivered_at) == (FulfillmentStatus.DELIVERED, arrived)


def test_waiting_units_cancelled_after_invoicing_come_off_the_invoice_in_a_credit_note(part_shipped):
    order = part_shipped
    invoice = invoice_issue(seller_id=order.seller_id, order_id=order.pk, actor=STAFF).document
    assert invoice.total == order.total  # the whole order, waiting units too

    order_line_cancel(
        seller_id=order.seller_id, order_id=order.pk, line_id=order.lines.get().pk, quantity=None, actor=STAFF
    )
    dispatch("order.updated")
    assert CreditNote.objects.filter(invoice=invoice).count() == 1
    # Safe to run again (a relay retried): one credit note per cancellation.
    on_line_cancelled(OutboxEvent.objects.filter(topic="order.updated", aggregate_id=str(order.pk)).last())

    order.refresh_from_db()
    (note,) = CreditNote.objects.filter(invoice=invoice)
    assert note.total == invoice.total - order.total
    assert note.refund_reference.startswith("line-cancel:")


def test_an_invoice_drawn_after_the_cancel_is_not_credited_again(part_shipped):
    """The shipment's invoice is issued by the relay after the waiting rest was
    cancelled: it bills the order as it is, and nothing is credited."""
    order = part_shipped
    order_line_cancel(
        seller_id=order.seller_id, order_id=order.pk, line_id=order.lines.get().pk, quantity=None, actor=STAFF
    )
    invoice = invoice_issue(seller_id=order.seller_id, order_id=order.pk, actor=STAFF).document

    dispatch("order.updated")

    order.refresh_from_db()
    assert invoice.total == order.total
    assert not CreditNote.objects.exists()


def test_a_cancel_and_the_refund_of_its_money_credit_the_invoice_once_in_any_order(part_shipped):
    """A capture that landed at the old total is refunded the difference later
    (``adjusts_order``): the line cancel's credit note already took it off."""
    order = part_shipped
    invoice = invoice_issue(seller_id=order.seller_id, order_id=order.pk, actor=STAFF).document
    order_line_cancel(
        seller_id=order.seller_id, order_id=order.pk, line_id=order.lines.get().pk, quantity=None, actor=STAFF
    )
    order.refresh_from_db()
    cancelled = invoice.total - order.total
    dispatch("order.updated")
    refunded = OutboxEvent(
        topic="payment.refunded",
        seller_id=order.seller_id,
        aggregate_type="payment",
        aggregate_id="1",
        payload={
            "order_id": order.pk,
            "refund_id": "re_over_capture",
            "amount": str(cancelled.amount),
            "currency": str(cancelled.currency),
            "adjusts_order": True,
        },
    )

    on_payment_refunded(refunded)

    assert [note.total for note in CreditNote.objects.filter(invoice=invoice)] == [cancelled]
