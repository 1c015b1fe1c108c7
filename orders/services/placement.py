"""Placing an order: validate, route and reserve stock, number it, write it with its
events and its outbox announcement, all in one transaction. Nothing is written when
any check fails."""

from collections.abc import Callable, Sequence

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from core.fastsql import deferred_writes, insert_rows, placeholders, select_instances
from core.money import round_money, zero
from inventory.models import BackorderPolicy, Product, Warehouse
from inventory.selectors import product_components
from inventory.services import LineRequest, LinesAllocation, stock_allocate_lines
from orders.events import order_announce, order_event
from orders.exceptions import DuplicateExternalId, InvalidOrder
from orders.models import Allocation, DeliveryMethod, EventType, Order, OrderEvent, OrderHold, OrderLine
from orders.selectors import order_attach_written
from orders.services.allocation import allocation_rows, line_fulfillment, order_destination, waiting_units
from orders.services.inputs import OrderInput
from orders.services.lifecycle import ensure_transition
from orders.services.risk import RiskHit, history_query_for, risk_check
from orders.services.seller_checks import seller_checks_get
from orders.services.validation import order_input_validate, order_total_validate
from orders.status import Lifecycle, PaymentStatus
from sellers.models import Seller
from sellers.services import sequence_next, sequence_next_cte

ORDER_NUMBER_SEQUENCE = "order"


def _priced_lines(data: OrderInput, products_by_sku: dict[str, Product]) -> list[OrderLine]:
    lines = []
    for position, line in enumerate(data.lines):
        product = products_by_sku[line.sku]
        # Rounded first: the line total is what the customer sees, the unit price times
        # the quantity (a product price may carry more decimals than the currency).
        unit_price = round_money(
            Money(line.unit_price, data.currency) if line.unit_price is not None else product.price
        )
        lines.append(
            OrderLine(
                position=position,
                product=product,
                sku=product.sku,
                name=product.name,
                quantity=line.quantity,
                unit_price=unit_price,
                line_total=unit_price * line.quantity,
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


def _pickup_location(seller: Seller, data: OrderInput) -> Warehouse | None:
    """The pickup location a click-and-collect order names, or a field error."""
    if data.delivery_method != DeliveryMethod.PICKUP:
        if data.pickup_location:
            raise InvalidOrder(details={"pickup_location": ["Only for delivery_method pickup."]})
        return None
    if not data.pickup_location:
        raise InvalidOrder(details={"pickup_location": ["Required for delivery_method pickup."]})
    location = Warehouse.objects.filter(
        seller=seller, code=data.pickup_location, is_active=True, is_pickup_location=True
    ).first()
    if location is None:
        raise InvalidOrder(details={"pickup_location": [f"{data.pickup_location!r} is not a pickup location."]})
    return location


def _preorder_window_open(product: Product, today) -> bool:
    return product.backorder_policy == BackorderPolicy.PREORDER and (
        product.release_date is None or today < product.release_date
    )


def _preorder_caps_check(lines: list[OrderLine]) -> None:
    """Preorders stop at the product's cap. The product rows are locked first, so two
    orders racing for the last preorder units are counted one after the other."""
    capped = {line.product_id for line in lines if line.is_preorder and line.product.preorder_cap is not None}
    if not capped:
        return
    caps = dict(
        Product.objects.select_for_update().filter(pk__in=capped).order_by("pk").values_list("pk", "preorder_cap")
    )
    taken = dict(
        OrderLine.objects.filter(product_id__in=capped, is_preorder=True)
        .exclude(order__lifecycle=Lifecycle.CANCELLED)
        .values("product_id")
        .annotate(units=Sum(F("quantity") - F("quantity_cancelled")))
        .values_list("product_id", "units")
    )
    errors = {}
    for line in lines:
        if line.product_id in capped:
            left = caps[line.product_id] - taken.get(line.product_id, 0)
            if line.quantity > left:
                errors[f"lines.{line.position}.quantity"] = [f"Only {max(left, 0)} left to preorder."]
            taken[line.product_id] = taken.get(line.product_id, 0) + line.quantity
    if errors:
        raise InvalidOrder(details=errors)


def _line_requests(lines: list[OrderLine], today) -> list[LineRequest | None]:
    """What each line asks of stock now: None for a preorder (it waits for stock by
    design); backorderable lines may be covered in part."""
    components = product_components(line.product for line in lines)
    requests: list[LineRequest | None] = []
    for line in lines:
        product = line.product
        if _preorder_window_open(product, today):
            line.is_preorder = True
            requests.append(None)
        else:
            requests.append(
                LineRequest(
                    quantity=line.quantity,
                    components=components[product.pk],
                    sku=line.sku,
                    # Once a preorder product is released it sells from stock only.
                    partial=product.backorder_policy == BackorderPolicy.ALLOW,
                )
            )
    return requests


def _entry_events(
    order: Order,
    *,
    actor: Actor,
    routed: LinesAllocation,
    lines: list[OrderLine],
    allocations: list[Allocation],
    hits: list[RiskHit],
) -> list[OrderEvent]:
    events = [
        order_event(
            order,
            EventType.PLACED,
            actor=actor,
            data={"channel": order.channel, "total": str(order.total.amount), "currency": str(order.total.currency)},
        )
    ]
    if allocations:
        events.append(
            order_event(
                order,
                EventType.STOCK_ALLOCATED,
                actor=actor,
                data={
                    "reason": routed.plan.reason,
                    "warehouse_ids": sorted(routed.plan.warehouse_ids),
                    "lines": [
                        {
                            "sku": a.line.sku,
                            "product_id": a.stock.product_id,
                            "warehouse": a.stock.warehouse.code,
                            "quantity": a.quantity,
                        }
                        for a in allocations
                    ],
                    "candidates": routed.candidates,
                },
            )
        )
    if waiting := [line for line in lines if line.quantity_backordered]:
        events.append(
            order_event(
                order,
                EventType.BACKORDERED,
                actor=actor,
                data={
                    "lines": [
                        {"sku": line.sku, "quantity": line.quantity_backordered, "preorder": line.is_preorder}
                        for line in waiting
                    ]
                },
            )
        )
    events.append(
        order_event(
            order,
            EventType.STATUS_CHANGED,
            actor=actor,
            data={"field": "lifecycle", "before": Lifecycle.PLACED, "after": order.lifecycle}
            | ({"reason": "risk checks"} if hits else {}),
        )
    )
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


# The order's id drawn ahead of its INSERT (PostgreSQL): one value, as a CTE with a
# volatile function is evaluated once.
_NEW_ORDER_ID = (f"new_order AS (SELECT nextval(pg_get_serial_sequence('{Order._meta.db_table}', 'id')) AS id)", ())


def _insert_dependents(
    order: Order,
    lines: list[OrderLine],
    allocations: list[Allocation],
    hits: list[RiskHit],
    *,
    actor: Actor,
    routed: LinesAllocation,
    lines_written: bool = True,
) -> None:
    """The rows of a new order that refer to it: lines (unless written already), then
    allocations, holds and entry events, which go with the placement's last statement
    (``core.fastsql.deferred_writes``)."""
    for line in lines:
        line.order = order
    if not lines_written:
        insert_rows(lines)  # now: the allocations need their keys
    insert_rows(allocations, deferred=True)
    if hits:
        insert_rows(_hold_rows(order, hits), deferred=True)
    events = _entry_events(order, actor=actor, routed=routed, lines=lines, allocations=allocations, hits=hits)
    insert_rows(events, deferred=True)


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
    products = (
        select_instances(Product, f"seller_id = %s AND sku IN ({placeholders(len(skus))})", [seller.pk, *skus])
        if skus
        else []  # no lines: validation says so below
    )
    products_by_sku = {p.sku: p for p in products}
    checks = seller_checks_get(seller_id=seller.pk)
    order_input_validate(data=data, products_by_sku=products_by_sku, limits=checks.limits)
    lines = _priced_lines(data, products_by_sku)
    order = _build_order(seller=seller, data=data, lines=lines)
    order_total_validate(limits=checks.limits, total=order.total)
    for check in before_write:
        check(order, lines)
    pickup_location = _pickup_location(seller, data)
    order.delivery_method, order.pickup_warehouse = data.delivery_method, pickup_location
    requests = _line_requests(lines, timezone.localdate())
    destination, warehouse_ids, pickup = order_destination(order)
    routed_lines = [line for line, request in zip(lines, requests, strict=True) if request is not None]
    try:
        # deferred_writes: the rows nothing waits for go together (core.fastsql).
        with transaction.atomic(), deferred_writes():
            _preorder_caps_check(lines)
            requested = [request for request in requests if request is not None]
            routed = stock_allocate_lines(
                seller_id=seller.pk,
                requests=requested,
                destination=destination,
                strategy=seller.routing_strategy,
                warehouse_ids=warehouse_ids,
                pickup=pickup,
                held_back=waiting_units(
                    seller_id=seller.pk, product_ids={p for r in requested for p, _ in r.components}
                ),
            )
            granted = {id(line): grant.granted for line, grant in zip(routed_lines, routed.grants, strict=True)}
            for line in lines:
                line.quantity_backordered = line.quantity - granted.get(id(line), 0)
            # The number's row lock is held until commit and serializes the seller's
            # placements, so risk checks that read history after it see every order
            # placed before this one, even a double-click duplicate sent a millisecond
            # earlier. Without such checks the number is taken by the lines' INSERT,
            # where the database can (one round trip fewer).
            number_in_insert = connection.vendor == "postgresql" and history_query_for(checks.rules).is_empty
            if not number_in_insert:
                order.number = sequence_next(seller_id=seller.pk, name=ORDER_NUMBER_SEQUENCE)
            # They run before the INSERT, so the order is written once, confirmed or held;
            # a held order keeps its stock reserved until someone decides.
            hits = risk_check(seller_id=seller.pk, order=order, lines=lines, rules=checks.rules)
            order.lifecycle = Lifecycle.ON_HOLD if hits else Lifecycle.CONFIRMED
            ensure_transition(current=Lifecycle.PLACED, requested=order.lifecycle)
            order.confirmed_at = None if hits else order.placed_at
            order.fulfillment_status = line_fulfillment(lines)
            allocations = allocation_rows(routed_lines, routed)
            # insert_rows: the statement text is built once per table, see core.fastsql.
            if connection.vendor == "postgresql":
                # The lines' INSERT is the last statement whose answer is awaited: it
                # draws the order's id (and takes its number), and the stock UPDATE goes
                # with it. From there to COMMIT only the deferred rows go in, the order's
                # own among them, in one statement (foreign keys are checked at COMMIT):
                # the number's lock, which every other placement of the seller waits on,
                # is held that long.
                ctes, returning = [_NEW_ORDER_ID], []
                if number_in_insert:
                    number_cte, number = sequence_next_cte(seller_id=seller.pk, name=ORDER_NUMBER_SEQUENCE)
                    ctes.append(number_cte)
                    returning.append(number)
                taken = insert_rows(
                    lines, ctes=ctes, expressions={"order_id": "(SELECT id FROM new_order)"}, returning=returning
                )
                if number_in_insert:
                    (order.number,) = taken
                order.pk = lines[0].order_id
                insert_rows([order], with_pk=True, deferred=True)
                _insert_dependents(order, lines, allocations, hits, actor=actor, routed=routed)
            else:
                insert_rows([order])
                _insert_dependents(order, lines, allocations, hits, actor=actor, routed=routed, lines_written=False)
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
