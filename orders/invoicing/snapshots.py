"""What an issued document copies from the live rows: the order's billed figures (and
the tax breakdown placement kept), the seller's legal details and the buyer's. Pure
functions of loaded model instances; nothing here reads or writes the database."""

from dataclasses import replace
from decimal import Decimal

from djmoney.money import Money

from orders.invoicing.figures import LineFigures, OrderFigures, TaxBreakdown
from orders.models import Order, OrderLine
from sellers.models import Seller

# Where placement keeps the tax breakdown its lines cannot carry (orders.finance's
# TAX_METADATA_KEY; a test keeps the two equal).
TAX_BREAKDOWN_KEY = "waybill_tax"


def tax_breakdown(order: Order, lines: list[OrderLine]) -> TaxBreakdown | None:
    """The breakdown placement's tax computation keeps in the order's metadata, or None
    when the order has none (or one that does not fit its lines)."""
    kept = order.metadata.get(TAX_BREAKDOWN_KEY) if isinstance(order.metadata, dict) else None
    if not isinstance(kept, dict):
        return None
    try:
        shipping = kept["shipping"]
        line_discounts = [Money(Decimal(entry["discount"]), order.currency) for entry in kept["lines"]]
        breakdown = TaxBreakdown(
            line_discounts=line_discounts,
            shipping_rate=Decimal(shipping["rate"]),
            shipping_tax=Money(Decimal(shipping["tax"]), order.currency),
            shipping_discount=Money(Decimal(shipping["discount"]), order.currency),
            shipping_name=str(shipping.get("name") or ""),
        )
    except (KeyError, TypeError, ArithmeticError):
        return None
    return breakdown if len(line_discounts) == len(lines) else None


def order_figures(*, order: Order, lines: list[OrderLine], prices_include_tax: bool) -> OrderFigures:
    """What is billed: every line's units that were not cancelled."""
    breakdown = tax_breakdown(order, lines)
    billed = [index for index, line in enumerate(lines) if line.quantity > line.quantity_cancelled]
    if breakdown is not None:
        breakdown = replace(breakdown, line_discounts=[breakdown.line_discounts[index] for index in billed])
    billed_lines = [lines[index] for index in billed]
    return OrderFigures(
        breakdown=breakdown,
        currency=order.currency,
        prices_include_tax=prices_include_tax,
        lines=[
            LineFigures(
                sku=line.sku,
                description=line.name,
                quantity=line.quantity - line.quantity_cancelled,
                unit_price=line.unit_price,
                line_total=line.line_total,
                tax_rate=line.tax_rate,
                tax_amount=line.tax_amount,
            )
            for line in billed_lines
        ],
        shipping_total=order.shipping_total,
        discount_total=order.discount_total,
        tax_total=order.tax_total,
        total=order.total,
    )


def seller_snapshot(seller: Seller) -> dict:
    return {
        "seller_id": seller.pk,
        "seller_name": seller.legal_name or seller.name,
        "seller_address": seller.legal_address,
        "seller_tax_id": seller.tax_id,
        "seller_email": seller.support_email,
        "seller_timezone": seller.timezone,
    }


def order_snapshot(order: Order) -> dict:
    billing = order.billing_address or order.shipping_address
    return {
        "order": order,
        "buyer_name": order.customer_name or billing.get("name", ""),
        "buyer_email": order.customer_email,
        "billing_address": billing,
        "shipping_address": order.shipping_address,
        "order_number": order.number,
        "order_placed_at": order.placed_at,
        "order_channel": order.channel,
        "order_external_id": order.external_id,
    }
