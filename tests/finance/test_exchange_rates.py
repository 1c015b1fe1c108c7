"""Exchange rates: loaded from a file or saved one by one, mirrored into django-money's
exchange tables, and looked up as of a day with the rate stated."""

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from djmoney.contrib.exchange.models import ExchangeBackend, Rate
from djmoney.money import Money

from orders.finance.exceptions import InvalidExchangeRates
from orders.finance.models import ExchangeRate
from orders.finance.selectors import exchange_rate_for
from orders.finance.services.exchange import RateRow, exchange_rate_delete, exchange_rates_load, exchange_rates_save

pytestmark = pytest.mark.django_db

JAN, FEB = date(2025, 1, 2), date(2025, 2, 3)


def load(text: str, source: str = "test.csv") -> int:
    return exchange_rates_load(stream=io.StringIO(text), source=source)


@pytest.fixture
def rates():
    load(
        "date,base_currency,quote_currency,rate\n"
        "2025-01-02,EUR,USD,1.10\n"
        "2025-01-02,EUR,SEK,11.00\n"
        "2025-02-03,EUR,USD,1.20\n",
        source="ECB",
    )


def test_a_direct_rate_converts_through_django_money_and_says_which_it_used(rates):
    stated = exchange_rate_for(source="EUR", target="USD", on=date(2025, 1, 31))

    assert (stated.rate, stated.date, stated.via, stated.origin, stated.base) == (
        Decimal("1.1"),
        JAN,
        "direct",
        "ECB",
        "EUR",
    )
    assert stated.backend == "waybill:2025-01-02:EUR"
    assert stated.convert(Money("10.00", "EUR")) == Money("11.00", "USD")


def test_the_rate_valid_on_the_day_is_the_latest_on_or_before_it(rates):
    assert exchange_rate_for(source="EUR", target="USD", on=FEB).rate == Decimal("1.2")
    assert exchange_rate_for(source="EUR", target="USD", on=date(2025, 2, 2)).rate == Decimal("1.1")
    assert exchange_rate_for(source="EUR", target="USD", on=date(2025, 1, 1)) is None


def test_inverse_and_cross_rates(rates):
    inverse = exchange_rate_for(source="USD", target="EUR", on=JAN)
    cross = exchange_rate_for(source="SEK", target="USD", on=FEB)

    assert inverse.via == "inverse" and inverse.convert(Money("11.00", "USD")) == Money("10.00", "EUR")
    assert (inverse.display, inverse.stored) == ("0.90909091", "1 EUR = 1.1 USD")
    # SEK and USD are both quoted against EUR only on 2 January: 1.10 / 11.00.
    assert (cross.via, cross.date, cross.rate) == ("cross", JAN, Decimal("0.1"))
    assert cross.convert(Money("1000", "SEK")) == Money("100.00", "USD")


def test_a_pair_without_any_rate_is_not_convertible(rates):
    assert exchange_rate_for(source="JPY", target="USD", on=FEB) is None
    assert exchange_rate_for(source="USD", target="USD", on=FEB).rate == 1


def test_conversions_round_half_up_to_the_targets_minor_unit():
    exchange_rates_save(
        rows=[
            RateRow(JAN, "USD", "JPY", Decimal("157.125")),
            RateRow(JAN, "USD", "KWD", Decimal("0.308125")),
        ],
        source="test",
    )

    assert exchange_rate_for(source="USD", target="JPY", on=JAN).convert(Money("0.10", "USD")) == Money("16", "JPY")
    kwd = exchange_rate_for(source="USD", target="KWD", on=JAN).convert(Money("1.00", "USD"))
    assert kwd == Money("0.308", "KWD")


def test_django_moneys_tables_mirror_the_stored_rates(rates):
    assert dict(Rate.objects.filter(backend__name="waybill:2025-01-02:EUR").values_list("currency", "value")) == {
        "USD": Decimal("1.1"),
        "SEK": Decimal("11"),
    }
    assert ExchangeBackend.objects.get(name="waybill:2025-02-03:EUR").base_currency == "EUR"


def test_a_corrected_rate_is_used_at_once_and_a_deleted_one_is_gone(rates):
    assert exchange_rate_for(source="EUR", target="USD", on=JAN).rate == Decimal("1.1")  # cached by django-money

    load("date,base_currency,quote_currency,rate\n2025-01-02,EUR,USD,1.05\n", source="correction")

    corrected = exchange_rate_for(source="EUR", target="USD", on=JAN)
    assert (corrected.rate, corrected.origin) == (Decimal("1.05"), "correction")
    assert ExchangeRate.objects.count() == 3

    exchange_rate_delete(rate=ExchangeRate.objects.get(date=FEB))
    assert not ExchangeBackend.objects.filter(name="waybill:2025-02-03:EUR").exists()
    assert exchange_rate_for(source="EUR", target="USD", on=FEB).date == JAN


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("day,base,quote,rate\n2025-01-02,EUR,USD,1.1\n", "header"),
        ("date,base_currency,quote_currency,rate\n2025-13-02,EUR,USD,1.1\n", "line 2"),
        ("date,base_currency,quote_currency,rate\n2025-01-02,EUR,USD,1.1\n2025-01-02,EUR,EUR,1\n", "line 3"),
        ("date,base_currency,quote_currency,rate\n2025-01-02,EUR,USD,-1\n", "line 2"),
        ("date,base_currency,quote_currency,rate\n2025-01-02,EUR,USD,1.1234567\n", "line 2"),
        ("date,base_currency,quote_currency,rate\n2025-01-02,EURO,USD,1.1\n", "line 2"),
        ("date,base_currency,quote_currency,rate\n2025-01-02,EUR,USD,1.1\n2025-01-02,EUR,USD,1.2\n", "line 3"),
        ("date,base_currency,quote_currency,rate\n", "file"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_line_that_is_wrong(text, where):
    with pytest.raises(InvalidExchangeRates) as refused:
        load(text)

    assert where in refused.value.details
    assert not ExchangeRate.objects.exists()
    assert not Rate.objects.exists()


def test_the_command_loads_the_shipped_sample_and_a_rerun_adds_nothing():
    out = io.StringIO()
    call_command("exchange_rates_load", stdout=out)
    call_command("exchange_rates_load", stdout=out)

    assert "22 exchange rates loaded from exchange_rates_sample.csv" in out.getvalue()
    assert ExchangeRate.objects.count() == 22
    assert set(ExchangeRate.objects.values_list("source", flat=True)) == {"exchange_rates_sample.csv"}
    eur = exchange_rate_for(source="KWD", target="EUR", on=date(2025, 3, 1))
    assert (eur.via, eur.base, eur.date) == ("cross", "USD", JAN)


def test_the_command_reports_a_bad_file_and_writes_nothing(tmp_path):
    bad = tmp_path / "rates.csv"
    bad.write_text("date,base_currency,quote_currency,rate\n2025-01-02,EUR,USD,abc\n")

    with pytest.raises(CommandError, match="line 2"):
        call_command("exchange_rates_load", str(bad), "--source", "bank")
    with pytest.raises(CommandError, match="No such file"):
        call_command("exchange_rates_load", str(tmp_path / "missing.csv"))

    assert not ExchangeRate.objects.exists()
