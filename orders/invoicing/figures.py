"""The amounts a document prints, as pure functions over plain data: no database.

Invoice. The order's total and tax total are the truth; the invoice adds up to both to
the minor unit.
- With the tax breakdown placement keeps (``TaxBreakdown``: each line's share of the
  discount, the shipping's rate and tax), every line shows what was charged for it
  after its discount share, with its own rate and tax, and the shipping is one more
  line; the discount is inside the lines it came off, as the tax was computed.
- Without one (tax computed elsewhere, e.g. a marketplace's order-level figure, or no
  tax at all), product lines carry their own tax fields, shipping and discount are
  lines of their own, and tax the lines do not explain is one line with no rate: "not
  itemised". Waybill does not invent a breakdown it was not given.
- Whatever still differs from the order's totals (an order edited after placement)
  becomes an adjustment line, so the invoice never disagrees with the order.

Credit note. A refund names an amount, not items, so its credit note splits it over
the invoice's tax rates in proportion to the gross at each rate, and each part into
net and tax in that rate's proportion (``split_proportionally``: parts add up exactly).
An invoice with non-itemised tax is credited as one line in the invoice's overall
net/tax proportion.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from djmoney.money import Money

from core.money import round_money, split_proportionally, to_minor_units, zero


@dataclass(frozen=True)
class LineFigures:
    sku: str
    description: str
    quantity: int
    unit_price: Money
    line_total: Money
    tax_rate: Decimal
    tax_amount: Money


@dataclass(frozen=True)
class TaxBreakdown:
    """What placement's tax computation kept besides the lines' rate and tax."""

    line_discounts: Sequence[Money]  # one per line of ``OrderFigures.lines``
    shipping_rate: Decimal
    shipping_tax: Money
    shipping_discount: Money
    shipping_name: str = ""


@dataclass(frozen=True)
class OrderFigures:
    currency: str
    prices_include_tax: bool
    lines: Sequence[LineFigures]
    shipping_total: Money
    discount_total: Money
    tax_total: Money
    total: Money
    breakdown: TaxBreakdown | None = None


@dataclass(frozen=True)
class DraftLine:
    kind: str
    description: str
    quantity: int
    unit_price: Money
    tax_rate: Decimal | None
    net: Money
    tax: Money
    gross: Money
    sku: str = ""


@dataclass(frozen=True)
class TaxRateTotal:
    tax_rate: Decimal | None
    net: Money
    tax: Money
    gross: Money


@dataclass(frozen=True)
class DocumentDraft:
    lines: list[DraftLine]
    tax_rates: list[TaxRateTotal]
    net_total: Money
    tax_total: Money
    total: Money


def _total(amounts, currency: str) -> Money:
    return sum(amounts, zero(currency))


def _rate_key(rate: Decimal | None) -> tuple:
    return (rate is None, rate or Decimal(0))


def _draft(lines: list[DraftLine], currency: str) -> DocumentDraft:
    per_rate: dict[Decimal | None, list[DraftLine]] = defaultdict(list)
    for line in lines:
        per_rate[line.tax_rate].append(line)
    tax_rates = [
        TaxRateTotal(
            tax_rate=rate,
            net=_total((line.net for line in per_rate[rate]), currency),
            tax=_total((line.tax for line in per_rate[rate]), currency),
            gross=_total((line.gross for line in per_rate[rate]), currency),
        )
        for rate in sorted(per_rate, key=_rate_key)
    ]
    return DocumentDraft(
        lines=lines,
        tax_rates=tax_rates,
        net_total=_total((line.net for line in lines), currency),
        tax_total=_total((line.tax for line in lines), currency),
        total=_total((line.gross for line in lines), currency),
    )


def format_rate(rate: Decimal | None) -> str:
    """0.2 → "20 %", 0.055 → "5.5 %", None → "—" (not itemised)."""
    if rate is None:
        return "—"
    percent = (rate * 100).normalize()
    return f"{percent:f} %"


def _split_net_tax(charged: Money, tax: Money, *, prices_include_tax: bool) -> tuple[Money, Money]:
    """(net, gross) of a charge whose tax is known."""
    if prices_include_tax:
        return charged - tax, charged
    return charged, charged + tax


def _product_lines(order: OrderFigures) -> list[DraftLine]:
    currency = order.currency
    discounts = list(order.breakdown.line_discounts) if order.breakdown else []
    if len(discounts) != len(order.lines):
        discounts = [zero(currency)] * len(order.lines)
    lines = []
    for line, discount in zip(order.lines, discounts, strict=True):
        net, gross = _split_net_tax(
            line.line_total - discount, line.tax_amount, prices_include_tax=order.prices_include_tax
        )
        description = line.description
        if discount.amount:
            description += f" (after a discount of {round_money(discount).amount})"
        lines.append(
            DraftLine(
                kind="product",
                sku=line.sku,
                description=description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                tax_rate=line.tax_rate,
                net=net,
                tax=line.tax_amount,
                gross=gross,
            )
        )
    return lines


def _charge(kind: str, description: str, amount: Money, tax: Money, rate: Decimal, inclusive: bool) -> DraftLine:
    net, gross = _split_net_tax(amount, tax, prices_include_tax=inclusive)
    return DraftLine(
        kind=kind, description=description, quantity=1, unit_price=amount, tax_rate=rate, net=net, tax=tax, gross=gross
    )


def _charge_lines(order: OrderFigures) -> list[DraftLine]:
    currency, inclusive, breakdown = order.currency, order.prices_include_tax, order.breakdown
    none = zero(currency)
    lines = []
    if breakdown is not None:
        # The discount is already inside the lines and the shipping it came off.
        charged = order.shipping_total - breakdown.shipping_discount
        if charged.amount or breakdown.shipping_tax.amount:
            name = "Shipping" + (f" ({breakdown.shipping_name})" if breakdown.shipping_name else "")
            lines.append(_charge("shipping", name, charged, breakdown.shipping_tax, breakdown.shipping_rate, inclusive))
        return lines
    if order.shipping_total.amount:
        lines.append(_charge("shipping", "Shipping", order.shipping_total, none, Decimal(0), inclusive))
    if order.discount_total.amount:
        lines.append(_charge("discount", "Discount", -order.discount_total, none, Decimal(0), inclusive))
    return lines


def _reconciliation(order: OrderFigures, lines: list[DraftLine]) -> list[DraftLine]:
    """The line that makes the invoice equal the order: tax not itemised, or a
    difference the order's own figures leave."""
    currency = order.currency
    gross_left = order.total - _total((line.gross for line in lines), currency)
    tax_left = order.tax_total - _total((line.tax for line in lines), currency)
    net_left = gross_left - tax_left
    if not (gross_left.amount or tax_left.amount):
        return []
    if tax_left.amount and not net_left.amount:
        description = "Tax on the order (not itemised)"
    elif tax_left.amount and not gross_left.amount:
        description = "Tax included in the prices above (not itemised)"
    else:
        description = "Adjustment"
    return [
        DraftLine(
            kind="adjustment",
            description=description,
            quantity=1,
            unit_price=gross_left if order.prices_include_tax else net_left,
            tax_rate=None if tax_left.amount else Decimal(0),
            net=net_left,
            tax=tax_left,
            gross=gross_left,
        )
    ]


def invoice_draft(order: OrderFigures) -> DocumentDraft:
    """The invoice of an order: adds up to the order's total and tax total exactly."""
    lines = _product_lines(order) + _charge_lines(order)
    return _draft(lines + _reconciliation(order, lines), order.currency)


def credit_note_draft(
    *,
    invoice_rates: Sequence[TaxRateTotal],
    invoice_net: Money,
    invoice_tax: Money,
    amount: Money,
    prices_include_tax: bool,
    reason: str = "",
) -> DocumentDraft:
    """A refund of ``amount`` (tax included) against an invoice with these totals."""
    currency = str(amount.currency)
    weights = [max(to_minor_units(rate.gross), 0) for rate in invoice_rates]
    if any(rate.tax_rate is None for rate in invoice_rates) or not any(weights):
        # Tax not itemised per rate: follow the invoice as a whole.
        tax_weight, net_weight = max(to_minor_units(invoice_tax), 0), max(to_minor_units(invoice_net), 0)
        rates = [None if invoice_tax.amount else Decimal(0)]
        parts = [amount]
        splits = [(tax_weight, net_weight)]
    else:
        rates = [rate.tax_rate for rate in invoice_rates]
        parts = split_proportionally(amount, weights)
        splits = [(max(to_minor_units(r.tax), 0), max(to_minor_units(r.net), 0)) for r in invoice_rates]
    label = reason.strip() or "Refund"
    lines = []
    for rate, part, (tax_weight, net_weight) in zip(rates, parts, splits, strict=True):
        if not part.amount:
            continue
        tax, net = split_proportionally(part, [tax_weight, net_weight]) if tax_weight else (zero(currency), part)
        suffix = "tax not itemised" if rate is None else f"items taxed at {format_rate(rate)}"
        lines.append(
            DraftLine(
                kind="refund",
                description=f"{label} — {suffix}"[:255],
                quantity=1,
                unit_price=part if prices_include_tax else net,
                tax_rate=rate,
                net=net,
                tax=tax,
                gross=part,
            )
        )
    return _draft(lines, currency)
