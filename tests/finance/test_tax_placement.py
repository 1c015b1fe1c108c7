"""Tax computed per line when an order is placed, and kept on the order."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from core.models import OutboxEvent
from inventory.models import Stock
from orders.exceptions import InvalidOrder
from orders.finance.tax.base import TAX_METADATA_KEY
from orders.models import Order, OrderEvent, OrderLine
from tests.factories import place
from tests.finance.helpers import BERLIN, NEW_YORK, OSLO, PORTLAND, amounts, rate, shop, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def northwind():
    seller = shop(products={"MUG": ("10.00", "standard"), "SOCK": ("24.99", "clothing")})
    rate(seller, "US", "0.08875", region="NY", name="NY sales tax")
    rate(seller, "US", "0.045", region="NY", tax_class="clothing", name="NY clothing")
    return seller


@pytest.fixture
def lindqvist():
    seller = shop(currency="EUR", inclusive=True, products={"MUG": ("24.00", "standard"), "BOOK": ("10.70", "reduced")})
    rate(seller, "DE", "0.19", name="MwSt 19 %")
    rate(seller, "DE", "0.07", tax_class="reduced", name="MwSt 7 %")
    return seller


def test_exclusive_prices_tax_each_line_and_the_shipping_after_the_discount(northwind):
    order = place(
        northwind,
        [("MUG", 3), ("SOCK", 1)],
        shipping_address=NEW_YORK,
        shipping_total=Decimal("6.95"),
        discount_total=Decimal("5.00"),
        tax_total=None,
    )

    # The 5.00 discount splits 2.73 / 2.27 over 30.00 and 24.99 (exactly, largest remainder);
    # 27.27 × 8.875 % = 2.42, 22.72 × 4.5 % = 1.02, shipping 6.95 × 8.875 % = 0.62.
    lines = list(order.lines.order_by("position"))
    assert [(line.tax_class, line.tax_rate, text(line.tax_amount)) for line in lines] == [
        ("standard", Decimal("0.08875"), "2.42"),
        ("clothing", Decimal("0.04500"), "1.02"),
    ]
    assert amounts(Order.objects.get(pk=order.pk)) == {
        "subtotal": "54.99",
        "shipping_total": "6.95",
        "tax_total": "4.06",
        "discount_total": "5.00",
        "total": "61.00",  # 54.99 + 6.95 + 4.06 − 5.00
    }
    breakdown = Order.objects.get(pk=order.pk).metadata[TAX_METADATA_KEY]
    assert breakdown["jurisdiction"] == "US-NY"
    assert breakdown["shipping"] == {"rate": "0.08875", "tax": "0.62", "discount": "0.00", "name": "NY sales tax"}
    assert [line["discount"] for line in breakdown["lines"]] == ["2.73", "2.27"]


def test_inclusive_prices_carry_the_included_tax_and_the_total_is_not_raised(lindqvist):
    order = place(
        lindqvist,
        [("MUG", 2), ("BOOK", 1)],
        currency="EUR",
        shipping_address=BERLIN,
        shipping_total=Decimal("4.90"),
        tax_total=None,
    )

    # 48.00 × 19/119 = 7.66; 10.70 × 7/107 = 0.70; shipping 4.90 × 19/119 = 0.78.
    assert [text(line.tax_amount) for line in order.lines.order_by("position")] == ["7.66", "0.70"]
    assert amounts(Order.objects.get(pk=order.pk)) == {
        "subtotal": "58.70",
        "shipping_total": "4.90",
        "tax_total": "9.14",
        "discount_total": "0.00",
        "total": "63.60",  # 58.70 + 4.90: the tax is inside
    }


def test_a_class_without_its_own_rate_pays_the_standard_rate_and_a_region_falls_back_to_the_country():
    lindqvist_sock = shop(currency="EUR", inclusive=True, products={"CARD": ("11.90", "greeting-cards")})
    rate(lindqvist_sock, "DE", "0.19")
    rate(lindqvist_sock, "DE", "0.07", region="Helgoland", tax_class="greeting-cards")

    order = place(lindqvist_sock, [("CARD", 1)], currency="EUR", shipping_address=BERLIN, tax_total=None)

    line = order.lines.get()
    assert (line.tax_rate, text(line.tax_amount)) == (Decimal("0.19"), "1.90")  # 11.90 × 19/119


def test_a_destination_without_rates_is_not_taxed(northwind, lindqvist):
    exported = place(lindqvist, [("MUG", 1)], currency="EUR", shipping_address=OSLO, shipping_total=Decimal("14.90"))
    untaxed_state = place(northwind, [("MUG", 1)], shipping_address=PORTLAND, tax_total=None)

    for order in (exported, untaxed_state):
        assert order.tax_total.amount == 0
        assert not order.lines.exclude(tax_amount=0).exists()
    assert text(exported.total) == "38.90"


def test_a_seller_without_rates_keeps_the_channels_tax_at_order_level():
    seller = shop(products={"MUG": ("10.00", "standard")})

    order = place(seller, [("MUG", 2)], shipping_address=NEW_YORK, tax_total=Decimal("1.77"))

    assert text(order.tax_total) == "1.77"
    assert text(order.total) == "21.77"
    assert order.lines.get().tax_amount.amount == 0
    assert TAX_METADATA_KEY not in order.metadata


def test_marketplace_orders_keep_the_marketplaces_tax(northwind):
    order = place(
        northwind,
        [("MUG", 1)],
        shipping_address=NEW_YORK,
        channel="amazon",
        channel_account="amazon-us",
        external_id="111-1",
        tax_total=Decimal("0.90"),
        paid_externally=True,
    )

    assert text(order.tax_total) == "0.90"
    assert text(order.total) == "10.90"
    assert order.lines.get().tax_amount.amount == 0


def test_a_stated_tax_total_that_matches_is_accepted_and_one_that_differs_is_refused_writing_nothing(northwind):
    accepted = place(northwind, [("MUG", 1)], shipping_address=NEW_YORK, tax_total=Decimal("0.89"))
    assert text(accepted.total) == "10.89"
    before = (Order.objects.count(), OrderEvent.objects.count(), OutboxEvent.objects.count())

    with pytest.raises(InvalidOrder) as refused:
        place(northwind, [("MUG", 1)], shipping_address=NEW_YORK, tax_total=Decimal("0.80"))

    assert list(refused.value.details) == ["tax_total"]
    assert "0.89" in refused.value.details["tax_total"][0]
    assert (Order.objects.count(), OrderEvent.objects.count(), OutboxEvent.objects.count()) == before
    assert Stock.objects.aggregate(total=Sum("allocated"))["total"] == 1


def test_a_placed_order_keeps_its_tax_when_the_rates_change(northwind):
    order = place(northwind, [("MUG", 4)], shipping_address=NEW_YORK, tax_total=None)
    stored = (amounts(Order.objects.get(pk=order.pk)), list(OrderLine.objects.values_list("tax_rate", "tax_amount")))

    northwind.tax_rates.filter(tax_class="standard").update(rate=Decimal("0.2"))
    northwind.tax_rates.filter(tax_class="clothing").delete()

    assert (
        amounts(Order.objects.get(pk=order.pk)),
        list(OrderLine.objects.values_list("tax_rate", "tax_amount")),
    ) == stored
    assert stored[0]["tax_total"] == "3.55"  # 40.00 × 8.875 %
    later = place(northwind, [("MUG", 4)], shipping_address=NEW_YORK, tax_total=None)
    assert text(later.tax_total) == "8.00"


def test_the_rate_valid_on_the_day_of_placement_applies(northwind):
    today = timezone.localdate()
    northwind.tax_rates.filter(tax_class="standard").update(valid_until=today - timedelta(days=1))
    rate(northwind, "US", "0.1", region="NY", valid_from=today, name="NY sales tax, new")

    current = place(northwind, [("MUG", 1)], shipping_address=NEW_YORK, tax_total=None)
    backdated = place(
        northwind,
        [("MUG", 1)],
        shipping_address=NEW_YORK,
        tax_total=None,
        placed_at=timezone.now() - timedelta(days=3),
    )

    assert (current.lines.get().tax_rate, backdated.lines.get().tax_rate) == (Decimal("0.1"), Decimal("0.08875"))


def test_the_reserved_metadata_key_is_refused(northwind):
    with pytest.raises(InvalidOrder) as refused:
        place(northwind, [("MUG", 1)], shipping_address=NEW_YORK, metadata={TAX_METADATA_KEY: {}})

    assert f"metadata.{TAX_METADATA_KEY}" in refused.value.details
    assert not Order.objects.exists()


def test_a_discount_larger_than_goods_and_shipping_is_refused(northwind):
    with pytest.raises(InvalidOrder) as refused:
        place(
            northwind,
            [("MUG", 1)],
            shipping_address=NEW_YORK,
            shipping_total=Decimal("5.00"),
            discount_total=Decimal("15.01"),
            tax_total=None,
        )

    assert list(refused.value.details) == ["discount_total"]


def test_a_discount_beyond_the_goods_comes_off_the_taxed_shipping(northwind):
    order = place(
        northwind,
        [("MUG", 1)],
        shipping_address=NEW_YORK,
        shipping_total=Decimal("5.00"),
        discount_total=Decimal("12.00"),
        tax_total=None,
    )

    assert order.lines.get().tax_amount.amount == 0  # the goods are free
    assert text(order.tax_total) == "0.27"  # 3.00 of shipping × 8.875 %
    assert text(order.total) == "3.27"
