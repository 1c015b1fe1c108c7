"""Shops and orders for the invoicing tests. ``taxed`` writes an order's tax figures
as placement's tax computation leaves them (line rate and tax, order totals, and the
breakdown kept in the order's metadata), so these tests do not depend on a tax engine."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from orders.models import Order, OrderLine
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, place, stocked


def make_shop(name: str = "Northwind", **seller_fields):
    fields = {
        "name": name,
        "legal_name": f"{name} Trading Ltd",
        "legal_address": "1 Harbour Road\nBristol BS1 4DJ\nUnited Kingdom",
        "tax_id": "GB123456789",
        "support_email": "billing@example.com",
        **seller_fields,
    }
    seller = SellerFactory(**fields)
    warehouse = WarehouseFactory(seller=seller)
    stocked(ProductFactory(seller=seller, sku="MUG", name="Enamel mug", price=Money("10.00", "USD")), warehouse, 1000)
    stocked(ProductFactory(seller=seller, sku="BOOK", name="Field guide", price=Money("15.00", "USD")), warehouse, 1000)
    return seller


@pytest.fixture
def shop(db):
    return make_shop()


def taxed(order: Order, *, lines: dict[str, tuple[str, str, str]], shipping=("0", "0", "0"), inclusive=False):
    """``lines``: sku → (rate, tax, discount share); ``shipping``: (rate, tax, discount share)."""
    currency = order.currency
    order_lines = list(OrderLine.objects.filter(order=order).order_by("position"))
    tax_total = Money(0, currency)
    breakdown_lines = []
    for line in order_lines:
        rate, tax, discount = lines[line.sku]
        OrderLine.objects.filter(pk=line.pk).update(tax_rate=Decimal(rate), tax_amount=Decimal(tax))
        tax_total += Money(tax, currency)
        breakdown_lines.append({"discount": discount, "name": f"VAT {rate}"})
    tax_total += Money(shipping[1], currency)
    total = order.subtotal + order.shipping_total - order.discount_total
    if not inclusive:
        total += tax_total
    metadata = {
        **order.metadata,
        "waybill_tax": {
            "engine": "table",
            "jurisdiction": "GB",
            "prices_include_tax": inclusive,
            "shipping": {"rate": shipping[0], "tax": shipping[1], "discount": shipping[2], "name": "VAT"},
            "lines": breakdown_lines,
        },
    }
    Order.objects.filter(pk=order.pk).update(tax_total=tax_total.amount, total=total.amount, metadata=metadata)
    order.refresh_from_db()
    return order


def placed(seller, lines, **overrides):
    return place(seller, lines, **overrides)
