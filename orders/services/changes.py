"""Changes to an order before it ships: a new shipping address, a cancelled line.

Amounts of a live order follow its open and shipped quantities, so cancelling a line
lowers the line total, the subtotal and the total. (A cancelled order keeps the amounts
it had, as the record of what was ordered.)"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from core.money import round_money, zero
from inventory.models import BackorderPolicy
from inventory.selectors import product_components
from inventory.services import LineRequest, stock_allocate_lines
from orders.events import order_announce, order_event, status_changed_event
from orders.exceptions import InvalidOrder, LineNotFound, OrderNotEditable
from orders.finance.tax.base import TAX_METADATA_KEY
from orders.finance.tax.calculation import order_total, tax_on
from orders.locks import order_lock
from orders.models import Allocation, DeliveryMethod, EventType, Order, OrderEvent, OrderLine
from orders.selectors import lifecycle_before_hold, order_has_shipped
from orders.services.allocation import allocation_rows, line_fulfillment, order_destination, release_line_units
from orders.services.fulfillment import delivered_in_full_at
from orders.services.inputs import AddressInput, LineInput
from orders.services.lifecycle import ensure_transition, order_cancelled_mark
from orders.services.seller_checks import seller_checks_get
from orders.services.validation import address_errors, destination_errors
from orders.status import EDITABLE_LIFECYCLES, Lifecycle
from sellers.models import Seller


def _ensure_editable(order: Order, lines: list[OrderLine]) -> None:
    if lifecycle_before_hold(order) == Lifecycle.IN_FULFILLMENT:
        raise OrderNotEditable(
            "The order was held while the warehouse had it: release it first.", details={"lifecycle": order.lifecycle}
        )
    if order.lifecycle not in EDITABLE_LIFECYCLES or any(line.quantity_shipped for line in lines):
        raise OrderNotEditable(details={"lifecycle": order.lifecycle})


def _reroute(order: Order, lines: list[OrderLine], actor: Actor) -> OrderEvent:
    """Release every allocation and route the open quantities to the new destination.
    Lines that could wait before may wait now; a line that may not wait and cannot be
    covered raises InsufficientStock and leaves the order as it was (the caller's
    transaction rolls back)."""
    open_lines = [line for line in lines if line.quantity_open]
    components = product_components(line.product for line in open_lines)
    for line in open_lines:
        release_line_units(line, line.quantity_open - line.quantity_backordered, components[line.product_id])
    destination, warehouse_ids, pickup = order_destination(order)
    routed = stock_allocate_lines(
        seller_id=order.seller_id,
        requests=[
            LineRequest(
                quantity=line.quantity_open,
                components=components[line.product_id],
                sku=line.sku,
                partial=bool(line.quantity_backordered) or line.product.backorder_policy == BackorderPolicy.ALLOW,
            )
            for line in open_lines
        ],
        destination=destination,
        strategy=Seller.objects.values_list("routing_strategy", flat=True).get(pk=order.seller_id),
        warehouse_ids=warehouse_ids,
        pickup=pickup,
    )
    for line, grant in zip(open_lines, routed.grants, strict=True):
        line.quantity_backordered = line.quantity_open - grant.granted
        OrderLine.objects.filter(pk=line.pk).update(quantity_backordered=line.quantity_backordered)
    Allocation.objects.bulk_create(allocation_rows(open_lines, routed))
    return order_event(
        order,
        EventType.STOCK_ALLOCATED,
        actor=actor,
        data={
            "reason": f"Re-routed for the new address. {routed.plan.reason}",
            "warehouse_ids": sorted(routed.plan.warehouse_ids),
            "candidates": routed.candidates,
        },
    )


def _reprice_cancelled(order: Order, index: int, line: OrderLine, *, kept: int, cancelled: int) -> bool:
    """A line lost ``cancelled`` of its ``kept + cancelled`` units (its total already
    lowered): its share of the order's discount shrinks pro rata, its tax is computed
    again at its placed rate on what is left (the rules of ``orders.finance.tax``), and
    the order's discount and tax follow. Orders whose tax came from their channel have
    no per-line breakdown: the line's tax is scaled. Returns whether the order's prices
    include tax (as placed, whatever the seller says today)."""
    breakdown = order.metadata.get(TAX_METADATA_KEY) if isinstance(order.metadata, dict) else None
    tax_before = line.tax_amount
    inclusive = order.prices_include_tax
    if isinstance(breakdown, dict) and len(breakdown.get("lines", [])) > index:
        share = Money(Decimal(breakdown["lines"][index]["discount"]), order.currency)
        share_kept = round_money(share * kept / (kept + cancelled))
        order.discount_total -= share - share_kept
        breakdown["lines"][index]["discount"] = str(share_kept.amount)
        line.tax_amount = tax_on(line.line_total - share_kept, line.tax_rate, inclusive=inclusive)
    else:
        line.tax_amount = round_money(line.tax_amount * kept / (kept + cancelled))
    order.tax_total -= tax_before - line.tax_amount
    return inclusive


def order_shipping_address_update(*, seller_id: int, order_id: int, address: AddressInput, actor: Actor) -> Order:
    if errors := address_errors(address, "shipping_address"):
        raise InvalidOrder(details=errors)
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        lines = list(OrderLine.objects.filter(order=order).select_related("product"))
        _ensure_editable(order, lines)
        if errors := destination_errors(
            country=address.country,
            limits=seller_checks_get(seller_id=seller_id).limits,
            lines=[LineInput(sku=line.sku, quantity=line.quantity_open) for line in lines if line.quantity_open],
            products_by_sku={line.sku: line.product for line in lines},
        ):
            raise InvalidOrder(details=errors)
        before = order.shipping_address
        order.ship_name, order.ship_company = address.name, address.company
        order.ship_line1, order.ship_line2 = address.line1, address.line2
        order.ship_city, order.ship_region = address.city, address.region
        order.ship_postal_code, order.ship_country, order.ship_phone = (
            address.postal_code,
            address.country,
            address.phone,
        )
        order.ship_latitude, order.ship_longitude = address.latitude, address.longitude
        events = [
            order_event(
                order, EventType.ADDRESS_CHANGED, actor=actor, data={"before": before, "after": order.shipping_address}
            )
        ]
        allocations = Allocation.objects.filter(line__order=order).select_related("stock__warehouse")
        if order.delivery_method == DeliveryMethod.SHIP and any(
            not a.stock.warehouse.ships_to_country(address.country) for a in allocations
        ):
            events.append(_reroute(order, lines, actor))
            order.fulfillment_status = line_fulfillment(lines)
        order.save()
        OrderEvent.objects.bulk_create(events)
        order_announce(order, "order.updated", change="shipping_address")
    return order


def order_line_cancel(
    *, seller_id: int, order_id: int, line_id: int, quantity: int | None, actor: Actor, reason: str = ""
) -> Order:
    """Cancel some or all open units of one line and release their stock; cancelling
    the last open units of the order cancels the order.

    Once the warehouse has started on the order (being picked, or part of it shipped),
    only units still waiting for stock may be cancelled: what is allocated is on its
    way. Cancelling the last of those completes an order whose every other unit
    shipped (a seller giving up on a backorder that will not come)."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        lines = list(OrderLine.objects.filter(order=order).order_by("position").select_related("product"))
        in_fulfillment = order.lifecycle == Lifecycle.IN_FULFILLMENT
        if not in_fulfillment:
            _ensure_editable(order, lines)
        line = next((candidate for candidate in lines if candidate.pk == line_id), None)
        if line is None:
            raise LineNotFound()
        cancellable = line.quantity_backordered if in_fulfillment else line.quantity_open
        if in_fulfillment and not cancellable:
            raise OrderNotEditable(
                "The warehouse has this line's units in hand: only units waiting for stock can be cancelled now.",
                details={"lifecycle": order.lifecycle},
            )
        quantity = cancellable if quantity is None else quantity
        if not 0 < quantity <= cancellable:
            what = "units waiting for stock" if in_fulfillment else "open units"
            raise InvalidOrder(details={"quantity": [f"Must be between 1 and the {cancellable} {what}."]})

        # Waiting units go first: they hold no stock.
        from_waiting = min(quantity, line.quantity_backordered)
        released = release_line_units(
            line, quantity - from_waiting, product_components([line.product])[line.product_id]
        )
        line.quantity_backordered -= from_waiting
        line.quantity_cancelled += quantity
        remaining = line.quantity - line.quantity_cancelled
        line.line_total = round_money(line.unit_price * remaining)
        inclusive = _reprice_cancelled(order, lines.index(line), line, kept=remaining, cancelled=quantity)
        OrderLine.objects.filter(pk=line.pk).update(
            quantity_cancelled=F("quantity_cancelled") + quantity,
            quantity_backordered=line.quantity_backordered,
            line_total=line.line_total,
            tax_amount=line.tax_amount,
        )
        before_total = order.total
        order.subtotal = sum((candidate.line_total for candidate in lines), zero(order.currency))
        order.total = order_total(
            subtotal=order.subtotal,
            shipping=order.shipping_total,
            tax=order.tax_total,
            discount=order.discount_total,
            inclusive=inclusive,
        )
        if order.total.amount < 0:
            raise OrderNotEditable(
                "The discount would exceed what is left of the order; cancel the whole order instead.",
                details={"discount_total": str(order.discount_total.amount)},
            )
        events = [
            order_event(
                order,
                EventType.LINE_CANCELLED,
                actor=actor,
                data={
                    "line_id": line.pk,
                    "sku": line.sku,
                    "quantity": quantity,
                    "reason": reason,
                    "released": released,
                    "total_before": str(before_total.amount),
                    "total_after": str(order.total.amount),
                },
            )
        ]
        if not any(candidate.quantity_open for candidate in lines):
            # Nothing left to send: cancelled, or complete if part of it shipped.
            shipped = order_has_shipped(order, lines)
            after = Lifecycle.COMPLETED if shipped else Lifecycle.CANCELLED
            ensure_transition(current=order.lifecycle, requested=after)
            events.append(status_changed_event(order, before=order.lifecycle, after=after, actor=actor, reason=reason))
            if shipped:
                order.lifecycle, order.completed_at = Lifecycle.COMPLETED, timezone.now()
                # Its parcels may all have arrived while this line waited: then the
                # order is delivered now, and its return window starts from then.
                if order.delivered_at is None and (delivered_at := delivered_in_full_at(order)):
                    order.delivered_at = delivered_at
            else:
                order_cancelled_mark(order, actor=actor, reason=reason)
        order.fulfillment_status = line_fulfillment(lines, delivered=order.delivered_at is not None)
        order.save()
        OrderEvent.objects.bulk_create(events)
        if order.lifecycle == Lifecycle.CANCELLED:
            order_announce(order, "order.cancelled", reason=reason)
        else:
            order_announce(
                order,
                "order.updated",
                change="line_cancelled",
                lifecycle=order.lifecycle,
                line_id=line.pk,
                amount_cancelled=str((before_total - order.total).amount),
            )
    return order
