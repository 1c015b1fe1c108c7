"""Tax arithmetic on plain data: no database, so it can be property-tested.

The rules, in the order they apply:

1. **Discount.** An order-level discount comes off the lines pro rata to their totals
   (``core.money.split_proportionally``: the shares are on the minor-unit grid and add
   up to the discount exactly). Only what exceeds the goods comes off the shipping; a
   discount larger than goods and shipping together is refused.
2. **Taxable amount** of a charge = its amount − its discount share. Each line and the
   shipping are one charge each; the shipping is taxed at the destination's
   ``standard`` class rate.
3. **Tax per charge, rounded per charge** half-up to the currency's minor unit (JPY 1,
   USD 0.01, KWD 0.001), like every amount in Waybill (``core.money``):
   exclusive prices: ``tax = round(taxable × rate)``;
   inclusive prices: ``tax = round(taxable × rate / (1 + rate))``, the part of the
   price that is tax.
4. **Totals.** ``tax_total`` = Σ line tax + shipping tax.
   Exclusive: ``total = subtotal + shipping + tax_total − discount``.
   Inclusive: ``total = subtotal + shipping − discount`` (the tax is already inside).
   Both hold to the minor unit, by construction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from core.money import is_on_minor_unit_grid, round_money, split_proportionally, zero
from orders.finance.exceptions import TaxEngineError
from orders.finance.tax.base import TaxableCharge, TaxedCharge, TaxQuote, TaxRequest


def tax_on(amount: Money, rate: Decimal, *, inclusive: bool) -> Money:
    """The tax on one charge, rounded half-up to the minor unit."""
    if inclusive:
        return round_money(Money(amount.amount * rate / (1 + rate), amount.currency))
    return round_money(Money(amount.amount * rate, amount.currency))


def order_total(*, subtotal: Money, shipping: Money, tax: Money, discount: Money, inclusive: bool) -> Money:
    if inclusive:
        return subtotal + shipping - discount
    return subtotal + shipping + tax - discount


@dataclass(frozen=True)
class DiscountSplit:
    lines: tuple[Money, ...]
    shipping: Money


def discount_split(*, discount: Money, line_totals: Sequence[Money], shipping: Money) -> DiscountSplit | None:
    """Rule 1. None when the discount is larger than goods and shipping together."""
    currency = str(discount.currency)
    subtotal = sum(line_totals, zero(currency))
    if discount > subtotal + shipping:
        return None
    on_goods = min(discount, subtotal)
    weights = [total.amount for total in line_totals]
    line_shares = split_proportionally(on_goods, weights) if weights else []
    return DiscountSplit(lines=tuple(line_shares), shipping=discount - on_goods)


def taxable_charges(
    *, lines: Sequence[tuple[str, str, int, Money]], shipping: Money, split: DiscountSplit
) -> tuple[tuple[TaxableCharge, ...], TaxableCharge]:
    """Rule 2. ``lines`` are (sku, tax_class, quantity, line_total)."""
    charges = tuple(
        TaxableCharge(tax_class=tax_class, amount=line_total - share, sku=sku, quantity=quantity)
        for (sku, tax_class, quantity, line_total), share in zip(lines, split.lines, strict=True)
    )
    return charges, TaxableCharge(tax_class="standard", amount=shipping - split.shipping)


def quote_check(request: TaxRequest, quote: TaxQuote) -> None:
    """An engine's answer must fit the request before it is written on an order: one
    charge per line, in the order's currency, on its minor-unit grid, not negative, a
    rate that is a fraction, and an inclusive tax no larger than what it is part of."""
    problems = []
    if len(quote.lines) != len(request.lines):
        problems.append(f"{len(quote.lines)} taxed lines for {len(request.lines)} lines")
    pairs = [*zip(request.lines, quote.lines, strict=False), (request.shipping, quote.shipping)]
    for charge, taxed in pairs:
        label = charge.sku or "shipping"
        if str(taxed.tax.currency) != request.currency:
            problems.append(f"{label}: tax in {taxed.tax.currency}, order in {request.currency}")
        elif not is_on_minor_unit_grid(taxed.tax.amount, request.currency) or taxed.tax.amount < 0:
            problems.append(f"{label}: tax {taxed.tax.amount} is not a {request.currency} amount")
        elif request.prices_include_tax and taxed.tax > charge.amount:
            problems.append(f"{label}: included tax {taxed.tax.amount} exceeds the price {charge.amount.amount}")
        if not 0 <= taxed.rate < 1:
            problems.append(f"{label}: rate {taxed.rate} is not a fraction")
    if problems:
        raise TaxEngineError(details={"problems": problems})


@dataclass(frozen=True)
class OrderTaxes:
    """What placement writes: per-line rate and tax, the shipping's, and the totals.
    ``computed`` is False when the channel's own tax figure was kept."""

    computed: bool
    lines: tuple[TaxedCharge, ...]
    shipping: TaxedCharge
    line_discounts: tuple[Money, ...]
    shipping_discount: Money
    tax_total: Money
    total: Money
    prices_include_tax: bool
    engine: str = ""
    jurisdiction: str = ""

    def summary(self) -> dict:
        """The breakdown an order keeps besides its lines (which carry rate and tax):
        the shipping's rate and tax and each charge's discount share, as strings."""
        return {
            "engine": self.engine,
            "jurisdiction": self.jurisdiction,
            "prices_include_tax": self.prices_include_tax,
            "shipping": {
                "rate": str(self.shipping.rate),
                "tax": str(self.shipping.tax.amount),
                "discount": str(self.shipping_discount.amount),
                "name": self.shipping.name,
            },
            "lines": [
                {"discount": str(discount.amount), "name": taxed.name}
                for taxed, discount in zip(self.lines, self.line_discounts, strict=True)
            ],
        }


def order_taxes(
    *,
    request: TaxRequest,
    quote: TaxQuote,
    subtotal: Money,
    shipping: Money,
    discount: Money,
    split: DiscountSplit,
    engine: str,
) -> OrderTaxes:
    """Rule 4, from a checked quote."""
    quote_check(request, quote)
    tax_total = sum((taxed.tax for taxed in quote.lines), quote.shipping.tax)
    return OrderTaxes(
        computed=True,
        lines=quote.lines,
        shipping=quote.shipping,
        line_discounts=split.lines,
        shipping_discount=split.shipping,
        tax_total=tax_total,
        total=order_total(
            subtotal=subtotal,
            shipping=shipping,
            tax=tax_total,
            discount=discount,
            inclusive=request.prices_include_tax,
        ),
        prices_include_tax=request.prices_include_tax,
        engine=engine,
        jurisdiction=quote.jurisdiction,
    )


def channel_taxes(
    *, line_count: int, subtotal: Money, shipping: Money, discount: Money, tax: Money, inclusive: bool
) -> OrderTaxes:
    """The channel's own tax figure kept at order level; the lines carry no tax of their
    own (Waybill does not invent a breakdown it was not given)."""
    currency = str(subtotal.currency)
    none = TaxedCharge(rate=Decimal(0), tax=zero(currency))
    return OrderTaxes(
        computed=False,
        lines=(none,) * line_count,
        shipping=none,
        line_discounts=(zero(currency),) * line_count,
        shipping_discount=zero(currency),
        tax_total=tax,
        total=order_total(subtotal=subtotal, shipping=shipping, tax=tax, discount=discount, inclusive=inclusive),
        prices_include_tax=inclusive,
    )
