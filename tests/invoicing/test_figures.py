"""The amounts on invoices and credit notes, as pure functions: exact examples and
properties (everything adds up to the order to the minor unit)."""

from decimal import Decimal

from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from core.money import minor_unit_exponent, round_money, split_proportionally, to_minor_units
from orders.invoicing.figures import (
    LineFigures,
    OrderFigures,
    TaxBreakdown,
    TaxRateTotal,
    credit_note_draft,
    format_rate,
    invoice_draft,
)


def usd(amount) -> Money:
    return Money(amount, "USD")


def line(sku, quantity, unit, rate="0", tax="0", currency="USD") -> LineFigures:
    return LineFigures(
        sku=sku,
        description=sku.title(),
        quantity=quantity,
        unit_price=Money(unit, currency),
        line_total=Money(Decimal(unit) * quantity, currency),
        tax_rate=Decimal(rate),
        tax_amount=Money(tax, currency),
    )


def rows(draft):
    def text(money):
        return str(round_money(money).amount)

    return [(ln.kind, ln.tax_rate, text(ln.net), text(ln.tax), text(ln.gross)) for ln in draft.lines]


def test_exclusive_prices_with_a_breakdown_show_each_line_after_its_discount():
    # 2 mugs at 10.00 (20 %) and a book at 15.00 (5 %), 5.00 shipping (20 %), 7.00 off:
    # the discount came off the goods pro rata (4.00 and 3.00) as placement split it.
    order = OrderFigures(
        currency="USD",
        prices_include_tax=False,
        lines=[line("mug", 2, "10.00", "0.2", "3.20"), line("book", 1, "15.00", "0.05", "0.60")],
        shipping_total=usd("5.00"),
        discount_total=usd("7.00"),
        tax_total=usd("4.80"),
        total=usd("37.80"),
        breakdown=TaxBreakdown(
            line_discounts=[usd("4.00"), usd("3.00")],
            shipping_rate=Decimal("0.2"),
            shipping_tax=usd("1.00"),
            shipping_discount=usd("0"),
        ),
    )

    draft = invoice_draft(order)

    assert rows(draft) == [
        ("product", Decimal("0.2"), "16.00", "3.20", "19.20"),
        ("product", Decimal("0.05"), "12.00", "0.60", "12.60"),
        ("shipping", Decimal("0.2"), "5.00", "1.00", "6.00"),
    ]
    assert draft.lines[0].description == "Mug (after a discount of 4.00)"
    assert [(r.tax_rate, r.net, r.tax, r.gross) for r in draft.tax_rates] == [
        (Decimal("0.05"), usd("12.00"), usd("0.60"), usd("12.60")),
        (Decimal("0.2"), usd("21.00"), usd("4.20"), usd("25.20")),
    ]
    assert (draft.net_total, draft.tax_total, draft.total) == (usd("33.00"), usd("4.80"), usd("37.80"))


def test_inclusive_prices_show_the_tax_inside_the_price():
    # 119.00 incl. 19 % is 100.00 + 19.00; shipping 5.95 incl. 0.95.
    order = OrderFigures(
        currency="EUR",
        prices_include_tax=True,
        lines=[line("lamp", 1, "119.00", "0.19", "19.00", currency="EUR")],
        shipping_total=Money("5.95", "EUR"),
        discount_total=Money("0", "EUR"),
        tax_total=Money("19.95", "EUR"),
        total=Money("124.95", "EUR"),
        breakdown=TaxBreakdown(
            line_discounts=[Money("0", "EUR")],
            shipping_rate=Decimal("0.19"),
            shipping_tax=Money("0.95", "EUR"),
            shipping_discount=Money("0", "EUR"),
        ),
    )

    draft = invoice_draft(order)

    assert rows(draft) == [
        ("product", Decimal("0.19"), "100.00", "19.00", "119.00"),
        ("shipping", Decimal("0.19"), "5.00", "0.95", "5.95"),
    ]
    assert draft.lines[0].unit_price == Money("119.00", "EUR")
    assert (draft.net_total, draft.tax_total, draft.total) == (
        Money("105.00", "EUR"),
        Money("19.95", "EUR"),
        Money("124.95", "EUR"),
    )


def test_order_level_tax_without_a_breakdown_is_one_line_with_no_rate():
    # A marketplace charged 3.50 tax on the order as a whole.
    order = OrderFigures(
        currency="USD",
        prices_include_tax=False,
        lines=[line("mug", 3, "10.00")],
        shipping_total=usd("4.00"),
        discount_total=usd("2.00"),
        tax_total=usd("3.50"),
        total=usd("35.50"),
    )

    draft = invoice_draft(order)

    assert rows(draft) == [
        ("product", Decimal("0"), "30.00", "0.00", "30.00"),
        ("shipping", Decimal("0"), "4.00", "0.00", "4.00"),
        ("discount", Decimal("0"), "-2.00", "0.00", "-2.00"),
        ("adjustment", None, "0.00", "3.50", "3.50"),
    ]
    assert draft.lines[-1].description == "Tax on the order (not itemised)"
    assert [r.tax_rate for r in draft.tax_rates] == [Decimal("0"), None]
    assert (draft.net_total, draft.tax_total, draft.total) == (usd("32.00"), usd("3.50"), usd("35.50"))


def test_order_level_tax_inside_inclusive_prices_moves_from_net_to_tax():
    order = OrderFigures(
        currency="EUR",
        prices_include_tax=True,
        lines=[line("mug", 1, "12.00", currency="EUR")],
        shipping_total=Money("0", "EUR"),
        discount_total=Money("0", "EUR"),
        tax_total=Money("2.00", "EUR"),
        total=Money("12.00", "EUR"),
    )

    draft = invoice_draft(order)

    assert rows(draft)[-1] == ("adjustment", None, "-2.00", "2.00", "0.00")
    assert draft.lines[-1].description == "Tax included in the prices above (not itemised)"
    assert (draft.net_total, draft.tax_total, draft.total) == (
        Money("10.00", "EUR"),
        Money("2.00", "EUR"),
        Money("12.00", "EUR"),
    )


def test_an_untaxed_order_has_no_adjustment():
    order = OrderFigures(
        currency="JPY",
        prices_include_tax=False,
        lines=[line("tea", 2, "1200", currency="JPY")],
        shipping_total=Money("500", "JPY"),
        discount_total=Money("0", "JPY"),
        tax_total=Money("0", "JPY"),
        total=Money("2900", "JPY"),
    )

    draft = invoice_draft(order)

    assert [ln.kind for ln in draft.lines] == ["product", "shipping"]
    assert draft.total == Money("2900", "JPY") and draft.tax_total == Money("0", "JPY")


def test_format_rate():
    assert [format_rate(Decimal(r)) for r in ("0.2", "0.055", "0", "0.19000")] == ["20 %", "5.5 %", "0 %", "19 %"]
    assert format_rate(None) == "—"


CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD"])
RATES = st.sampled_from(["0", "0.05", "0.07", "0.19", "0.2", "0.21"])


@st.composite
def orders(draw):
    currency = draw(CURRENCIES)
    inclusive = draw(st.booleans())
    grid = Decimal(1).scaleb(-minor_unit_exponent(currency))
    units = st.integers(min_value=0, max_value=200_000)

    def money(n):
        return Money(Decimal(n) * grid, currency)

    lines = []
    for index in range(draw(st.integers(min_value=1, max_value=6))):
        quantity = draw(st.integers(min_value=1, max_value=5))
        unit = money(draw(units))
        rate = Decimal(draw(RATES))
        total = round_money(unit * quantity)
        tax = round_money(total * rate / (1 + rate)) if inclusive else round_money(total * rate)
        lines.append(LineFigures(f"S{index}", f"Item {index}", quantity, unit, total, rate, tax))
    shipping = money(draw(units))
    subtotal = sum((ln.line_total for ln in lines), money(0))
    discount = money(draw(st.integers(min_value=0, max_value=to_minor_units(subtotal))))
    with_breakdown = draw(st.booleans())
    breakdown = None
    if with_breakdown and subtotal.amount:
        shares = split_proportionally(discount, [ln.line_total.amount for ln in lines])
        shipping_rate = Decimal(draw(RATES))
        shipping_tax = round_money(
            shipping * shipping_rate / (1 + shipping_rate) if inclusive else shipping * shipping_rate
        )
        breakdown = TaxBreakdown(shares, shipping_rate, shipping_tax, money(0))
        tax_total = sum((ln.tax_amount for ln in lines), shipping_tax)
    else:
        tax_total = money(draw(units))  # an order-level figure
    total = subtotal + shipping - discount + (money(0) if inclusive else tax_total)
    return OrderFigures(currency, inclusive, lines, shipping, discount, tax_total, total, breakdown)


@given(orders())
def test_an_invoice_always_adds_up_to_its_order(order):
    draft = invoice_draft(order)

    assert draft.total == order.total
    assert draft.tax_total == order.tax_total
    assert draft.net_total + draft.tax_total == draft.total
    for ln in draft.lines:
        assert ln.net + ln.tax == ln.gross
        assert round_money(ln.gross) == ln.gross
    assert sum((r.gross for r in draft.tax_rates), Money(0, order.currency)) == draft.total
    assert sum((r.tax for r in draft.tax_rates), Money(0, order.currency)) == draft.tax_total


@given(orders(), st.integers(min_value=1, max_value=10_000), st.data())
def test_a_credit_note_adds_up_to_the_refund(order, fraction, data):
    invoice = invoice_draft(order)
    if invoice.total.amount <= 0:
        return
    amount = round_money(invoice.total * Decimal(fraction) / 10_000)
    if amount.amount <= 0:
        return

    draft = credit_note_draft(
        invoice_rates=invoice.tax_rates,
        invoice_net=invoice.net_total,
        invoice_tax=invoice.tax_total,
        amount=amount,
        prices_include_tax=order.prices_include_tax,
    )

    assert draft.total == amount
    assert draft.net_total + draft.tax_total == amount
    for ln in draft.lines:
        assert ln.net + ln.tax == ln.gross and ln.gross.amount > 0
    assert draft.tax_total <= invoice.tax_total or invoice.tax_total.amount < 0


def test_a_full_credit_note_mirrors_the_invoice_per_rate():
    rates = [
        TaxRateTotal(Decimal("0.05"), usd("12.00"), usd("0.60"), usd("12.60")),
        TaxRateTotal(Decimal("0.2"), usd("21.00"), usd("4.20"), usd("25.20")),
    ]

    draft = credit_note_draft(
        invoice_rates=rates,
        invoice_net=usd("33.00"),
        invoice_tax=usd("4.80"),
        amount=usd("37.80"),
        prices_include_tax=False,
        reason="Returned",
    )

    assert [(r.tax_rate, r.net, r.tax, r.gross) for r in draft.tax_rates] == [
        (r.tax_rate, r.net, r.tax, r.gross) for r in rates
    ]
    assert draft.lines[0].description == "Returned — items taxed at 5 %"


def test_a_partial_credit_note_splits_by_the_gross_at_each_rate():
    rates = [
        TaxRateTotal(Decimal("0.05"), usd("12.00"), usd("0.60"), usd("12.60")),
        TaxRateTotal(Decimal("0.2"), usd("21.00"), usd("4.20"), usd("25.20")),
    ]

    draft = credit_note_draft(
        invoice_rates=rates,
        invoice_net=usd("33.00"),
        invoice_tax=usd("4.80"),
        amount=usd("10.00"),
        prices_include_tax=False,
    )

    # 10.00 × 12.60/37.80 = 3.33 at 5 %, 6.67 at 20 %; each split in its rate's net/tax proportion.
    assert rows(draft) == [
        ("refund", Decimal("0.05"), "3.17", "0.16", "3.33"),
        ("refund", Decimal("0.2"), "5.56", "1.11", "6.67"),
    ]
