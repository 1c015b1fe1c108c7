"""The tax arithmetic over random baskets, rates, currencies (JPY 0 decimals, USD 2,
KWD 3) and both pricing modes: every amount on the minor-unit grid, the discount
shares add up, each tax within half a minor unit of exact, and the order adds up; then
the same through ``order_place`` and the database, as stored."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.actor import Actor
from core.money import from_minor_units, is_on_minor_unit_grid, quantum, zero
from orders.finance.models import TaxRate
from orders.finance.tax.base import TAX_METADATA_KEY, TaxRequest
from orders.finance.tax.calculation import discount_split, order_taxes, taxable_charges
from orders.finance.tax.table import quote_from_rates
from orders.models import Order, OrderLine
from orders.services import LineInput, order_place
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, order_input, stocked
from tests.finance.helpers import NEW_YORK

CLASSES = ("standard", "reduced", "zero", "books")
rates = st.decimals(min_value=0, max_value=Decimal("0.3"), places=5)


@st.composite
def orders(draw):
    currency = draw(st.sampled_from(["JPY", "USD", "KWD"]))
    inclusive = draw(st.booleans())
    lines = draw(
        st.lists(
            st.tuples(st.sampled_from(CLASSES), st.integers(0, 5_000_000), st.integers(1, 50)), min_size=1, max_size=8
        )
    )
    line_totals = [from_minor_units(unit * quantity, currency) for _, unit, quantity in lines]
    shipping = from_minor_units(draw(st.integers(0, 50_000)), currency)
    goods_and_shipping = sum(line_totals, zero(currency)) + shipping
    discount_units = draw(st.integers(0, max(0, int(goods_and_shipping.amount / quantum(currency)))))
    region = draw(st.sampled_from(["", "NY", "ON"]))
    table = [
        TaxRate(country="US", region=where, tax_class=tax_class, rate=draw(rates), name=f"{where} {tax_class}")
        for where in ("", "NY")
        for tax_class in CLASSES
        if draw(st.booleans())
    ]
    return {
        "currency": currency,
        "inclusive": inclusive,
        "lines": [
            (f"SKU{i}", tax_class, quantity, total)
            for i, ((tax_class, _, quantity), total) in enumerate(zip(lines, line_totals, strict=True))
        ],
        "shipping": shipping,
        "discount": from_minor_units(discount_units, currency),
        "region": region,
        "table": table,
    }


def exact_tax(amount: Money, rate: Decimal, inclusive: bool) -> Decimal:
    return amount.amount * rate / (1 + rate) if inclusive else amount.amount * rate


@settings(max_examples=600, deadline=None)
@given(orders())
def test_every_order_adds_up_to_the_minor_unit(case):
    currency, inclusive = case["currency"], case["inclusive"]
    line_totals = [total for *_, total in case["lines"]]
    subtotal = sum(line_totals, zero(currency))
    shipping, discount = case["shipping"], case["discount"]

    split = discount_split(discount=discount, line_totals=line_totals, shipping=shipping)
    assert split is not None
    line_charges, shipping_charge = taxable_charges(lines=case["lines"], shipping=shipping, split=split)
    request = TaxRequest(
        seller_id=1,
        currency=currency,
        country="US",
        region=case["region"],
        postal_code="",
        city="",
        prices_include_tax=inclusive,
        lines=line_charges,
        shipping=shipping_charge,
        on=date(2025, 1, 1),
    )
    quote = quote_from_rates(request, case["table"])
    taxes = order_taxes(
        request=request,
        quote=quote,
        subtotal=subtotal,
        shipping=shipping,
        discount=discount,
        split=split,
        engine="table",
    )

    # The discount shares add up and never exceed what they come off.
    assert sum(split.lines, split.shipping) == discount
    assert all(zero(currency) <= share <= total for share, total in zip(split.lines, line_totals, strict=True))
    assert zero(currency) <= split.shipping <= shipping
    # Each tax is on the grid, within half a minor unit of exact, and inclusive tax is part of its charge.
    half = quantum(currency) / 2
    for charge, taxed in [*zip(line_charges, taxes.lines, strict=True), (shipping_charge, taxes.shipping)]:
        assert is_on_minor_unit_grid(taxed.tax.amount, currency) and taxed.tax.amount >= 0
        assert abs(taxed.tax.amount - exact_tax(charge.amount, taxed.rate, inclusive)) <= half
        if inclusive:
            assert taxed.tax <= charge.amount
    # The order adds up exactly.
    assert taxes.tax_total == sum((taxed.tax for taxed in taxes.lines), taxes.shipping.tax)
    if inclusive:
        assert taxes.total == subtotal + shipping - discount
    else:
        assert taxes.total == subtotal + shipping + taxes.tax_total - discount
    assert taxes.total.amount >= 0 and is_on_minor_unit_grid(taxes.total.amount, currency)
    assert str(taxes.total.currency) == currency


@given(
    discount_units=st.integers(1, 10_000),
    shipping_units=st.integers(0, 10_000),
    goods=st.lists(st.integers(0, 10_000), max_size=5),
)
def test_a_discount_beyond_goods_and_shipping_has_no_split(discount_units, shipping_units, goods):
    line_totals = [from_minor_units(units, "USD") for units in goods]
    shipping = from_minor_units(shipping_units, "USD")
    discount = from_minor_units(sum(goods) + shipping_units + discount_units, "USD")

    assert discount_split(discount=discount, line_totals=line_totals, shipping=shipping) is None


@st.composite
def placements(draw):
    currency = draw(st.sampled_from(["JPY", "USD", "KWD"]))
    lines = draw(
        st.lists(
            st.tuples(st.sampled_from(CLASSES), st.integers(0, 200_000), st.integers(1, 9)), min_size=1, max_size=5
        )
    )
    shipping = draw(st.integers(0, 5_000))
    goods = sum(unit * quantity for _, unit, quantity in lines)
    return {
        "currency": currency,
        "inclusive": draw(st.booleans()),
        "lines": lines,
        "shipping": shipping,
        "discount": draw(st.integers(0, goods + shipping)),
        "rates": {tax_class: draw(rates) for tax_class in CLASSES if draw(st.booleans())},
    }


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=placements())
def test_placed_orders_add_up_as_stored(case):
    currency = case["currency"]
    seller = SellerFactory(base_currency=currency, prices_include_tax=case["inclusive"])
    warehouse = WarehouseFactory(seller=seller)
    for tax_class, value in case["rates"].items():
        TaxRate.objects.create(
            seller=seller, country="US", region="NY", tax_class=tax_class, rate=value, name=tax_class
        )
    TaxRate.objects.create(seller=seller, country="CA", rate=Decimal("0.05"), name="GST")  # the seller taxes somewhere
    inputs = []
    for position, (tax_class, unit, quantity) in enumerate(case["lines"]):
        product = ProductFactory(
            seller=seller, sku=f"P{position}", price=from_minor_units(unit, currency), tax_class=tax_class
        )
        stocked(product, warehouse, quantity)
        inputs.append(LineInput(sku=product.sku, quantity=quantity))
    data = replace(
        order_input(
            [],
            currency=currency,
            shipping_address=NEW_YORK,
            shipping_total=from_minor_units(case["shipping"], currency).amount,
            discount_total=from_minor_units(case["discount"], currency).amount,
            tax_total=None,
        ),
        lines=inputs,
    )

    placed = order_place(seller=seller, data=data, actor=Actor.system("hypothesis"))

    order = Order.objects.get(pk=placed.pk)
    lines = list(OrderLine.objects.filter(order=order))
    shipping_tax = Money(order.metadata[TAX_METADATA_KEY]["shipping"]["tax"], currency)
    assert order.subtotal == sum((line.line_total for line in lines), zero(currency))
    assert order.tax_total == sum((line.tax_amount for line in lines), shipping_tax)
    for line in lines:
        expected_rate = case["rates"].get(line.tax_class, case["rates"].get("standard", Decimal(0)))
        assert line.tax_rate == expected_rate
        assert is_on_minor_unit_grid(line.tax_amount.amount, currency)
    if case["inclusive"]:
        assert order.total == order.subtotal + order.shipping_total - order.discount_total
    else:
        assert order.total == order.subtotal + order.shipping_total + order.tax_total - order.discount_total
    assert is_on_minor_unit_grid(order.total.amount, currency) and order.total.amount >= 0
