"""The one place that knows how money is rounded, converted to integer minor units
(ISO 4217: JPY 0 decimals, USD 2, KWD 3) and split so the parts add up exactly.

Rounding rule: half-up to the currency's minor unit (what invoices and payment
processors expect); every stored amount is already on the minor-unit grid.
"""

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cache

from djmoney.money import Money
from moneyed import get_currency


def minor_unit_exponent(currency: str) -> int:
    """Number of decimals of the currency: 2 for USD, 0 for JPY, 3 for KWD."""
    sub_unit = get_currency(currency).sub_unit
    exponent = 0
    while sub_unit > 1:
        sub_unit //= 10
        exponent += 1
    return exponent


@cache
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_unit_exponent(currency))


def round_amount(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def round_money(money: Money) -> Money:
    currency = str(money.currency)
    return Money(round_amount(money.amount, currency), currency)


def is_on_minor_unit_grid(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(quantum(currency), rounding=ROUND_DOWN)


def to_minor_units(money: Money) -> int:
    """Money → integer minor units, rounding first (djmoney's get_amount_in_sub_unit truncates)."""
    currency = str(money.currency)
    rounded = round_money(money).amount
    return int(rounded.scaleb(minor_unit_exponent(currency)))


def from_minor_units(units: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-minor_unit_exponent(currency)), currency)


def zero(currency: str) -> Money:
    return Money(Decimal(0), currency)


def split_proportionally(total: Money, weights: Sequence[Decimal | int]) -> list[Money]:
    """Split ``total`` by ``weights`` so the parts are on the minor-unit grid and add up
    to ``total`` exactly (largest-remainder method)."""
    if not weights:
        raise ValueError("at least one weight is needed")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    currency = str(total.currency)
    units = to_minor_units(total)
    weight_sum = sum(Decimal(w) for w in weights)
    if weight_sum == 0:
        weights, weight_sum = [1] * len(weights), Decimal(len(weights))
    exact = [Decimal(units) * Decimal(w) / weight_sum for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    remainder = units - sum(floors)
    # Hand the leftover units to the largest fractional parts; ties go to the earliest.
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    step = 1 if remainder >= 0 else -1
    for i in order[: abs(remainder)]:
        floors[i] += step
    return [from_minor_units(part, currency) for part in floors]
