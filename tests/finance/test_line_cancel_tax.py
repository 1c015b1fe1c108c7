"""Cancelling part of a taxed order: the discount share, the tax and the total follow
the rules the order was placed under."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.actor import Actor
from orders.finance.tax.calculation import order_total
from orders.services.changes import order_line_cancel
from tests.factories import place
from tests.finance.helpers import BERLIN, rate, shop

pytestmark = pytest.mark.django_db
STAFF = Actor.system("test")


def adds_up(order) -> bool:
    inclusive = order.metadata["waybill_tax"]["prices_include_tax"]
    lines_tax = sum((line.tax_amount for line in order.lines.all()), Money(0, order.currency))
    shipping_tax = Money(Decimal(order.metadata["waybill_tax"]["shipping"]["tax"]), order.currency)
    return order.tax_total == lines_tax + shipping_tax and order.total == order_total(
        subtotal=order.subtotal,
        shipping=order.shipping_total,
        tax=order.tax_total,
        discount=order.discount_total,
        inclusive=inclusive,
    )


def test_a_cancelled_line_takes_its_discount_share_and_its_tax_with_it(db):
    seller = shop(currency="EUR", inclusive=True, products={"A": ("100.00", "standard"), "B": ("100.00", "standard")})
    rate(seller, "DE", "0.19")
    order = place(seller, [("A", 1), ("B", 1)], currency="EUR", shipping_address=BERLIN, discount_total=Decimal("100"))

    order = order_line_cancel(
        seller_id=seller.pk, order_id=order.pk, line_id=order.lines.get(sku="B").pk, quantity=None, actor=STAFF
    )

    order.refresh_from_db()
    # A keeps its half of the discount: 50.00 paid, of which 19/119 is VAT.
    assert (order.discount_total.amount, order.total.amount, order.tax_total.amount) == (
        Decimal("50"),
        Decimal("50"),
        Decimal("7.98"),
    )
    assert adds_up(order)


def test_a_cancel_uses_the_pricing_the_order_was_placed_with(db):
    seller = shop(currency="EUR", inclusive=False, products={"A": ("100.00", "standard")})
    rate(seller, "DE", "0.19")
    order = place(seller, [("A", 2)], currency="EUR", shipping_address=BERLIN)
    seller.prices_include_tax = True  # the seller changes its mind later
    seller.save()

    order = order_line_cancel(
        seller_id=seller.pk, order_id=order.pk, line_id=order.lines.get().pk, quantity=1, actor=STAFF
    )

    order.refresh_from_db()
    assert (order.tax_total.amount, order.total.amount) == (Decimal("19"), Decimal("119"))
    assert adds_up(order)


def test_a_line_cancel_follows_the_tax_setting_the_order_was_placed_under(db):
    """The channel sent the tax (no rates of the seller's own), prices excluding it; the
    seller switches to tax-inclusive prices before a line is cancelled."""
    seller = shop(products={"MUG": ("10.00", "standard")})
    order = place(seller, [("MUG", 3)], tax_total=Decimal("3.00"))
    assert (order.total.amount, order.prices_include_tax) == (Decimal("33.00"), False)
    seller.prices_include_tax = True
    seller.save()

    order_line_cancel(seller_id=seller.pk, order_id=order.pk, line_id=order.lines.get().pk, quantity=1, actor=STAFF)

    order.refresh_from_db()
    # 20.00 of goods and the tax on top, as placed: still excluded from the prices.
    assert order.subtotal.amount == Decimal("20.00")
    assert order.total == order.subtotal + order.tax_total
    assert order.tax_total.amount > 0
