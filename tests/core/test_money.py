from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from core.money import from_minor_units, minor_unit_exponent, round_money, split_proportionally, to_minor_units


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [("12.34", "USD", 1234), ("1200", "JPY", 1200), ("1.250", "KWD", 1250), ("0.005", "USD", 1), ("0.5", "JPY", 1)],
)
def test_minor_units_follow_iso_4217(amount, currency, units):
    assert to_minor_units(Money(amount, currency)) == units


@pytest.mark.parametrize(("currency", "exponent"), [("USD", 2), ("EUR", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3)])
def test_minor_unit_exponent(currency, exponent):
    assert minor_unit_exponent(currency) == exponent


def test_rounding_is_half_up_to_the_minor_unit():
    assert round_money(Money("2.345", "USD")) == Money("2.35", "USD")
    assert round_money(Money("2.3449", "USD")) == Money("2.34", "USD")
    assert round_money(Money("1.0005", "KWD")) == Money("1.001", "KWD")


@given(units=st.integers(-(10**12), 10**12), currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_minor_units_round_trip(units, currency):
    assert to_minor_units(from_minor_units(units, currency)) == units


@given(
    units=st.integers(0, 10**9),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
    weights=st.lists(st.integers(0, 1000), min_size=1, max_size=12),
)
def test_proportional_split_adds_up_exactly_on_the_grid(units, currency, weights):
    total = from_minor_units(units, currency)

    parts = split_proportionally(total, weights)

    assert sum(to_minor_units(p) for p in parts) == units
    assert all(round_money(p) == p for p in parts)
    if sum(weights):
        for part, weight in zip(parts, weights, strict=True):
            exact = Decimal(units) * weight / sum(weights)
            assert abs(to_minor_units(part) - exact) < 1
