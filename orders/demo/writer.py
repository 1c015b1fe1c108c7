"""Bulk writes for the demo: a seller's catalogue, then a year of history with one
batched INSERT per table, because placing twenty thousand orders one by one through
``order_place`` would take minutes and ``make run`` must be up in one.

The rows are what the services would have written, with the times they would have
had: completed orders with shipped lines and their events, and per stock row a ledger
whose sum is the row's ``on_hand``. Historical orders hold no allocations (shipped
units are no longer reserved) and announce nothing through the outbox.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from djmoney.money import Money

from core.actor import Actor
from inventory.models import Product, Stock, StockLedgerEntry, Warehouse
from orders.demo.catalog import SellerSpec
from orders.demo.history import OrderPlan
from orders.demo.ledger import LedgerRow, StockKey
from orders.demo.tables import TableWriter
from orders.models import EventType, Order, OrderEvent, OrderLine
from orders.status import FulfillmentStatus, Lifecycle, PaymentStatus
from sellers.models import Seller

# What the order's payment status was when it was placed; storefront payments are
# authorized at checkout and captured when the order ships.
INITIAL_PAYMENT = {
    "storefront": PaymentStatus.AUTHORIZED,
    "amazon": PaymentStatus.PAID_EXTERNALLY,
    "ebay": PaymentStatus.PAID_EXTERNALLY,
}


@dataclass
class Catalog:
    seller: Seller
    warehouses: dict[str, Warehouse]
    products: list[Product]


@dataclass(frozen=True)
class HistoryCounts:
    orders: int
    lines: int
    events: int
    ledger_entries: int


def catalog_create(*, spec: SellerSpec, opened_at: datetime, now: datetime) -> Catalog:
    """The seller, its warehouses and products, dated back to when the history starts."""
    currency = spec.base_currency
    seller = Seller.objects.create(
        name=spec.name,
        slug=spec.slug,
        base_currency=currency,
        country=spec.country,
        timezone=spec.timezone,
        support_email=spec.support_email,
        prices_include_tax=spec.prices_include_tax,
    )
    warehouses = Warehouse.objects.bulk_create(
        Warehouse(
            seller=seller,
            code=w.code,
            name=w.name,
            address_line1=w.address_line1,
            city=w.city,
            region=w.region,
            postal_code=w.postal_code,
            country=w.country,
            latitude=w.latitude,
            longitude=w.longitude,
            ships_to=list(w.ships_to),
            priority=w.priority,
            handling_cost=Money(w.handling_cost, currency),
            cutoff_time=w.cutoff,
        )
        for w in spec.warehouses
    )
    products = Product.objects.bulk_create(
        Product(
            seller=seller,
            sku=p.sku,
            name=p.name,
            barcode=spec.barcode(index),
            price=Money(p.price, currency),
            weight_grams=p.weight_grams,
            length_mm=p.size_mm[0],
            width_mm=p.size_mm[1],
            height_mm=p.size_mm[2],
        )
        for index, p in enumerate(spec.products)
    )
    for index, product in enumerate(products):
        launched = spec.products[index].launched_days_ago
        since = opened_at if launched is None else max(opened_at, now - timedelta(days=launched))
        Product.objects.filter(pk=product.pk).update(created_at=since, updated_at=since)
    Seller.objects.filter(pk=seller.pk).update(created_at=opened_at, updated_at=opened_at)
    Warehouse.objects.filter(seller=seller).update(created_at=opened_at, updated_at=opened_at)
    return Catalog(seller=seller, warehouses={w.code: w for w in warehouses}, products=products)


def stocks_create(*, catalog: Catalog, balances: dict[StockKey, int], aisles: str) -> dict[StockKey, Stock]:
    """One stock row per (product, warehouse) with the ledger's final balance."""
    keys = sorted(balances)
    rows = Stock.objects.bulk_create(
        Stock(
            seller=catalog.seller,
            product=catalog.products[index],
            warehouse=catalog.warehouses[code],
            on_hand=balances[(index, code)],
            bin_location=f"{aisles[index % len(aisles)]}-{index // len(aisles) + 1:02d}-{index % 4 + 1}",
        )
        for index, code in keys
    )
    return dict(zip(keys, rows, strict=True))


ORDER_FIELDS = (
    "seller",
    "number",
    "channel",
    "channel_account",
    "external_id",
    "customer_email",
    "customer_name",
    "ship_name",
    "ship_line1",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "ship_latitude",
    "ship_longitude",
    "currency",
    "subtotal",
    "shipping_total",
    "tax_total",
    "discount_total",
    "total",
    "prices_include_tax",
    "lifecycle",
    "payment_status",
    "fulfillment_status",
    "placed_at",
    "confirmed_at",
    "completed_at",
    "metadata",
    "created_at",
    "updated_at",
)
LINE_FIELDS = (
    "order",
    "position",
    "product",
    "sku",
    "name",
    "quantity",
    "quantity_shipped",
    "currency",
    "unit_price",
    "line_total",
)
EVENT_FIELDS = ("seller", "order", "type", "actor_kind", "actor_label", "data", "created_at")
LEDGER_FIELDS = (
    "seller",
    "stock",
    "kind",
    "quantity",
    "balance_after",
    "reason",
    "reference",
    "actor_kind",
    "actor_label",
    "created_at",
)


def _completed_at(plan: OrderPlan) -> datetime:
    return plan.shipped_at + timedelta(seconds=2)


def _order_row(seller_id: int, plan: OrderPlan, currency: str, prices_include_tax: bool) -> tuple:
    customer, city = plan.customer, plan.customer.city
    completed_at = _completed_at(plan)
    return (
        seller_id,
        plan.number,
        plan.channel,
        plan.channel_account,
        plan.external_id,
        customer.email,
        customer.name,
        customer.name,
        customer.line1,
        city.name,
        city.region,
        city.postal_code,
        city.country,
        city.latitude,
        city.longitude,
        currency,
        plan.subtotal,
        plan.shipping,
        plan.tax,
        plan.discount,
        plan.total,
        prices_include_tax,
        Lifecycle.COMPLETED.value,
        plan.payment_status,
        (FulfillmentStatus.DELIVERED if plan.delivered_at else FulfillmentStatus.SHIPPED).value,
        plan.placed_at,
        plan.confirmed_at,
        completed_at,
        plan.metadata,
        plan.placed_at,
        plan.delivered_at or completed_at,
    )


def _status(before: str, after: str) -> dict:
    return {"field": "lifecycle", "before": before, "after": after}


def _timeline(plan: OrderPlan, skus: Sequence[str], warehouse_ids: dict[str, int], currency: str) -> list:
    """The events the services would have written for this order: (time, type, data)."""
    initial_payment = INITIAL_PAYMENT.get(plan.channel, PaymentStatus.PAID)
    shipped = {
        "field": "fulfillment_status",
        "before": FulfillmentStatus.ALLOCATED,
        "after": FulfillmentStatus.SHIPPED,
        "lines": [
            {"sku": sku, "warehouse_id": warehouse_ids[line.warehouse_code], "quantity": line.quantity}
            for sku, line in zip(skus, plan.lines, strict=True)
        ],
    }
    timeline = [
        (
            plan.placed_at,
            EventType.PLACED,
            {"channel": plan.channel, "total": str(plan.total), "currency": currency, "payment": initial_payment},
        ),
        (plan.confirmed_at, EventType.STATUS_CHANGED, _status(Lifecycle.PLACED, Lifecycle.CONFIRMED)),
        (plan.picking_at, EventType.STATUS_CHANGED, _status(Lifecycle.CONFIRMED, Lifecycle.IN_FULFILLMENT)),
        (plan.shipped_at, EventType.FULFILLMENT_STATUS_CHANGED, shipped),
    ]
    if initial_payment != plan.payment_status:
        payment = {
            "field": "payment_status",
            "before": initial_payment,
            "after": plan.payment_status,
            "amount": str(plan.total),
            "currency": currency,
        }
        timeline.append((plan.shipped_at + timedelta(seconds=1), EventType.PAYMENT_STATUS_CHANGED, payment))
    timeline.append(
        (_completed_at(plan), EventType.STATUS_CHANGED, _status(Lifecycle.IN_FULFILLMENT, Lifecycle.COMPLETED))
    )
    if plan.delivered_at:
        delivered = {
            "field": "fulfillment_status",
            "before": FulfillmentStatus.SHIPPED,
            "after": FulfillmentStatus.DELIVERED,
        }
        timeline.append((plan.delivered_at, EventType.FULFILLMENT_STATUS_CHANGED, delivered))
    return timeline


def history_write(
    *,
    catalog: Catalog,
    plans: Sequence[OrderPlan],
    ledger: Sequence[LedgerRow],
    stocks: dict[StockKey, Stock],
    actor: Actor,
) -> HistoryCounts:
    """Orders, lines, events and ledger entries; in each table id order is time order."""
    seller, products = catalog.seller, catalog.products
    currency = seller.base_currency
    times: dict = {}
    orders = TableWriter(Order, ORDER_FIELDS, times=times).insert(
        _order_row(seller.pk, plan, currency, seller.prices_include_tax) for plan in plans
    )
    order_ids = dict(Order.objects.filter(seller=seller).values_list("number", "pk"))

    lines = TableWriter(OrderLine, LINE_FIELDS).insert(
        (
            order_ids[plan.number],
            position,
            products[line.product_index].pk,
            products[line.product_index].sku,
            products[line.product_index].name,
            line.quantity,
            line.quantity,
            currency,
            line.unit_price,
            line.line_total,
        )
        for plan in plans
        for position, line in enumerate(plan.lines)
    )

    warehouse_ids = {code: w.pk for code, w in catalog.warehouses.items()}
    events = [
        (created_at, plan.number, sequence, event_type, data)
        for plan in plans
        for sequence, (created_at, event_type, data) in enumerate(
            _timeline(plan, [products[line.product_index].sku for line in plan.lines], warehouse_ids, currency)
        )
    ]
    events.sort(key=lambda event: event[:3])
    event_count = TableWriter(OrderEvent, EVENT_FIELDS, times=times).insert(
        (seller.pk, order_ids[number], event_type.value, actor.kind.value, actor.label, data, created_at)
        for created_at, number, _, event_type, data in events
    )

    ledger_count = TableWriter(StockLedgerEntry, LEDGER_FIELDS, times=times).insert(
        (
            seller.pk,
            stocks[row.key].pk,
            row.kind,
            row.quantity,
            row.balance_after,
            row.reason,
            row.reference,
            actor.kind.value,
            actor.label,
            row.created_at,
        )
        for row in ledger
    )
    return HistoryCounts(orders=orders, lines=lines, events=event_count, ledger_entries=ledger_count)
