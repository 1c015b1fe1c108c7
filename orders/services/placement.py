"""Placing an order: validate, route and reserve stock, number it, write it with its
events and its outbox announcement, all in one transaction. Nothing is written when
any check fails."""

from collections import defaultdict
from collections.abc import Callable, Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from core.money import round_money, zero
from inventory.geocoding import destination_build
from inventory.models import Product
from inventory.routing.base import Assignment, Demand, Destination
from inventory.services import Allocation as StockAllocation
from inventory.services import stock_allocate
from orders.events import order_announce, order_event
from orders.exceptions import DuplicateExternalId, InvalidOrder
from orders.models import Allocation, EventType, Order, OrderEvent, OrderHold, OrderLine
from orders.selectors import order_attach_written
from orders.services.inputs import OrderInput
from orders.services.lifecycle import ensure_transition
from orders.services.risk import RiskHit, risk_check
from orders.services.seller_checks import seller_checks_get
from orders.services.validation import order_input_validate, order_total_validate
from orders.status import FulfillmentStatus, Lifecycle, PaymentStatus
from sellers.models import Seller
from sellers.services import sequence_next

ORDER_NUMBER_SEQUENCE = "order"


def split_among_lines(
    lines: Sequence[tuple[int, int]], assignments: Sequence[Assignment]
) -> dict[int, list[tuple[int, int]]]:
    """Hand each line its share of the per-product assignments, in line order.

    ``lines`` are (product_id, quantity) by position; returns position → [(warehouse_id,
    quantity)]. Two lines of one product draw from the same pool, first line first.
    """
    pools: dict[int, list[list[int]]] = defaultdict(list)
    for assignment in assignments:
        pools[assignment.product_id].append([assignment.warehouse_id, assignment.quantity])
    shares: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for position, (product_id, quantity) in enumerate(lines):
        pool = pools[product_id]
        while quantity and pool:
            warehouse_id, left = pool[0]
            take = min(left, quantity)
            shares[position].append((warehouse_id, take))
            quantity -= take
            if take == left:
                pool.pop(0)
            else:
                pool[0][1] = left - take
    return dict(shares)


def destination_for(order: Order) -> Destination:
    """Where the order goes, for routing (see ``destination_build``). Coordinates looked
    up offline are kept on the order, so a later re-routing does not look them up again."""
    destination = destination_build(
        country=order.ship_country,
        postal_code=order.ship_postal_code,
        city=order.ship_city,
        latitude=order.ship_latitude,
        longitude=order.ship_longitude,
    )
    if destination.is_located:
        order.ship_latitude, order.ship_longitude = destination.latitude, destination.longitude
    return destination


def _priced_lines(data: OrderInput, products_by_sku: dict[str, Product]) -> list[OrderLine]:
    lines = []
    for position, line in enumerate(data.lines):
        product = products_by_sku[line.sku]
        unit_price = Money(line.unit_price, data.currency) if line.unit_price is not None else product.price
        lines.append(
            OrderLine(
                position=position,
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=line.quantity,
                unit_price=round_money(unit_price),
                line_total=round_money(unit_price * line.quantity),
                # Copied from the product: a later change of the product's class does
                # not alter the order. Rate and amount are set with the order's taxes.
                tax_class=product.tax_class,
                # Set, not defaulted: the line's money fields share one currency column,
                # and a defaulted field would reset it to the default currency.
                tax_amount=zero(unit_price.currency.code),
            )
        )
    return lines


def _build_order(*, seller: Seller, data: OrderInput, lines: list[OrderLine]) -> Order:
    # Imported here only because this change was confined to this function; nothing
    # cycles, the import can move to the top of the module.
    from orders.finance.services.tax import order_taxes_settle

    currency = data.currency
    subtotal = sum((line.line_total for line in lines), zero(currency))
    shipping = Money(data.shipping_total, currency)
    discount = Money(data.discount_total, currency)
    address = data.shipping_address
    now = timezone.now()
    order = Order(
        seller=seller,
        channel=data.channel,
        channel_account=data.channel_account,
        external_id=data.external_id,
        customer_email=data.customer_email,
        customer_name=data.customer_name,
        customer_phone=data.customer_phone,
        ship_name=address.name,
        ship_company=address.company,
        ship_line1=address.line1,
        ship_line2=address.line2,
        ship_city=address.city,
        ship_region=address.region,
        ship_postal_code=address.postal_code,
        ship_country=address.country,
        ship_phone=address.phone,
        ship_latitude=address.latitude,
        ship_longitude=address.longitude,
        billing_address=data.billing_address.as_dict() if data.billing_address else None,
        subtotal=subtotal,
        shipping_total=shipping,
        tax_total=zero(currency),
        discount_total=discount,
        total=subtotal,
        payment_status=PaymentStatus.PAID_EXTERNALLY if data.paid_externally else PaymentStatus.UNPAID,
        placed_at=data.placed_at or now,
        payment_risk_level=data.payment_risk.level if data.payment_risk else "",
        payment_risk_score=data.payment_risk.score if data.payment_risk else None,
        customer_note=data.customer_note,
        metadata=data.metadata,
    )
    # Per-line tax from the seller's rates (or the channel's own figure), checked against
    # the input's tax_total, then the total: see orders.finance.services.tax.
    order_taxes_settle(order=order, lines=lines, claimed=data.tax_total)
    return order


def _allocation_rows(lines: list[OrderLine], stock: StockAllocation) -> list[Allocation]:
    shares = split_among_lines([(line.product_id, line.quantity) for line in lines], stock.plan.assignments)
    return [
        Allocation(line=lines[position], stock=stock.stock_for(lines[position].product_id, warehouse_id), quantity=qty)
        for position, parts in shares.items()
        for warehouse_id, qty in parts
    ]


def _entry_events(
    order: Order, *, actor: Actor, stock: StockAllocation, allocations: list[Allocation], hits: list[RiskHit]
) -> list[OrderEvent]:
    events = [
        order_event(
            order,
            EventType.PLACED,
            actor=actor,
            data={"channel": order.channel, "total": str(order.total.amount), "currency": str(order.total.currency)},
        ),
        order_event(
            order,
            EventType.STOCK_ALLOCATED,
            actor=actor,
            data={
                "reason": stock.plan.reason,
                "warehouse_ids": sorted(stock.plan.warehouse_ids),
                "lines": [{"sku": a.line.sku, "stock_id": a.stock_id, "quantity": a.quantity} for a in allocations],
            },
        ),
        order_event(
            order,
            EventType.STATUS_CHANGED,
            actor=actor,
            data={"field": "lifecycle", "before": Lifecycle.PLACED, "after": order.lifecycle}
            | ({"reason": "risk checks"} if hits else {}),
        ),
    ]
    if hits:
        events.append(order_event(order, EventType.HOLD_PLACED, actor=actor, data={"reasons": _reasons(hits)}))
    return events


def _reasons(hits: list[RiskHit]) -> list[dict]:
    return [{"kind": hit.kind, "reason": hit.reason} for hit in hits]


def _hold_rows(order: Order, hits: list[RiskHit]) -> list[OrderHold]:
    return [
        OrderHold(seller_id=order.seller_id, order=order, kind=hit.kind, reason=hit.reason[:255], details=hit.details)
        for hit in hits
    ]


def order_place(
    *,
    seller: Seller,
    data: OrderInput,
    actor: Actor,
    then: Callable[[Order], None] | None = None,
    before_write: Sequence[Callable[[Order, list[OrderLine]], None]] = (),
) -> Order:
    """Place an order. ``then`` runs inside the same transaction once the order is
    written (the idempotency record is written that way), so both commit or neither.
    ``before_write`` checks run on the priced, unsaved order before any lock is taken
    (a payment verification may call out over the network); raising refuses the order.
    The returned order carries its lines and allocations, ready to render."""
    skus = {line.sku for line in data.lines}
    products_by_sku = {p.sku: p for p in Product.objects.filter(seller=seller, sku__in=skus)}
    checks = seller_checks_get(seller_id=seller.pk)
    order_input_validate(data=data, products_by_sku=products_by_sku, limits=checks.limits)
    lines = _priced_lines(data, products_by_sku)
    order = _build_order(seller=seller, data=data, lines=lines)
    order_total_validate(limits=checks.limits, total=order.total)
    for check in before_write:
        check(order, lines)
    demands = [Demand(product_id=line.product_id, quantity=line.quantity, sku=line.sku) for line in lines]
    destination = destination_for(order)
    try:
        with transaction.atomic():
            stock = stock_allocate(
                seller_id=seller.pk, demands=demands, destination=destination, strategy=seller.routing_strategy
            )
            # The number's row lock is held until commit and serializes the seller's
            # placements, so the risk checks after it see every order placed before this
            # one, even a double-click duplicate sent a millisecond earlier.
            order.number = sequence_next(seller_id=seller.pk, name=ORDER_NUMBER_SEQUENCE)
            # They run before the INSERT, so the order is written once, confirmed or held;
            # a held order keeps its stock reserved until someone decides.
            hits = risk_check(seller_id=seller.pk, order=order, lines=lines, rules=checks.rules)
            order.lifecycle = Lifecycle.ON_HOLD if hits else Lifecycle.CONFIRMED
            ensure_transition(current=Lifecycle.PLACED, requested=order.lifecycle)
            order.confirmed_at = None if hits else order.placed_at
            order.fulfillment_status = FulfillmentStatus.ALLOCATED
            order.save(force_insert=True)
            for line in lines:
                line.order = order
            OrderLine.objects.bulk_create(lines)
            allocations = _allocation_rows(lines, stock)
            Allocation.objects.bulk_create(allocations)
            if hits:
                OrderHold.objects.bulk_create(_hold_rows(order, hits))
            OrderEvent.objects.bulk_create(
                _entry_events(order, actor=actor, stock=stock, allocations=allocations, hits=hits)
            )
            order_announce(order, "order.created")
            if hits:
                order_announce(order, "order.on_hold", reasons=_reasons(hits))
            order_attach_written(order, lines, allocations)
            if then is not None:
                then(order)
    except IntegrityError as exc:
        if data.external_id and "external_id" in str(exc):
            raise DuplicateExternalId(details={"external_id": data.external_id, "channel": data.channel}) from exc
        raise
    return order
