"""Exchange rates: saving them (from the admin or a CSV file) and keeping django-money's
exchange tables in step, so conversions run through ``djmoney.contrib.exchange``.

Each day's rates against one base currency become one django-money exchange backend,
named ``waybill:<date>:<base>`` (``models.backend_name``), whose ``Rate`` rows are that
day's quotes. ``convert_money(money, target, backend=...)`` then converts directly,
inversely or across two quotes of the same day and base, as django-money does.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import permutations
from typing import TextIO

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from djmoney.contrib.exchange.models import ExchangeBackend, Rate

from orders.finance.exceptions import InvalidExchangeRates
from orders.finance.models import ExchangeRate, backend_name
from sellers.models import currency_code_validator

CSV_COLUMNS = ("date", "base_currency", "quote_currency", "rate")
MAX_RATE_DIGITS = 14  # before the point: max_digits 20, 6 decimals


@dataclass(frozen=True)
class RateRow:
    date: date
    base_currency: str
    quote_currency: str
    rate: Decimal


def _row_errors(row: RateRow) -> list[str]:
    errors = []
    for code in (row.base_currency, row.quote_currency):
        try:
            currency_code_validator(code)
        except ValidationError:  # reported per row
            errors.append(f"{code!r} is not an ISO 4217 currency code.")
    if row.base_currency == row.quote_currency:
        errors.append("Base and quote must differ.")
    if not row.rate.is_finite() or row.rate <= 0:
        errors.append("The rate must be a positive number.")
    elif row.rate != row.rate.quantize(Decimal("0.000001")) or row.rate.adjusted() >= MAX_RATE_DIGITS:
        errors.append("At most 6 decimals and 14 digits before the point.")
    return errors


def exchange_rates_parse(stream: TextIO) -> list[RateRow]:
    """CSV with a header ``date,base_currency,quote_currency,rate`` (ISO dates, one
    row per pair and day). Raises InvalidExchangeRates listing every bad line."""
    reader = csv.DictReader(stream)
    missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise InvalidExchangeRates(details={"header": [f"Missing columns: {', '.join(missing)}."]})
    rows, errors = [], {}
    seen: set[tuple] = set()
    for line_number, record in enumerate(reader, start=2):
        try:
            row = RateRow(
                date=date.fromisoformat(record["date"].strip()),
                base_currency=record["base_currency"].strip().upper(),
                quote_currency=record["quote_currency"].strip().upper(),
                rate=Decimal(record["rate"].strip()),
            )
        except (ValueError, InvalidOperation, AttributeError):
            errors[f"line {line_number}"] = ["Needs an ISO date, two currency codes and a decimal rate."]
            continue
        problems = _row_errors(row)
        key = (row.date, row.base_currency, row.quote_currency)
        if key in seen:
            problems.append("The same pair and date appear twice.")
        seen.add(key)
        if problems:
            errors[f"line {line_number}"] = problems
        rows.append(row)
    if errors:
        raise InvalidExchangeRates(details=errors)
    if not rows:
        raise InvalidExchangeRates(details={"file": ["No rates in the file."]})
    return rows


def _backends_sync(groups: Iterable[tuple[date, str]]) -> None:
    """Rebuild django-money's backend and rates for each (day, base) group from ours,
    and drop its cached conversions for them."""
    for day, base in set(groups):
        name = backend_name(day, base)
        quotes = dict(ExchangeRate.objects.filter(date=day, base_currency=base).values_list("quote_currency", "rate"))
        if not quotes:
            ExchangeBackend.objects.filter(name=name).delete()
        else:
            backend, _ = ExchangeBackend.objects.update_or_create(name=name, defaults={"base_currency": base})
            Rate.objects.filter(backend=backend).exclude(currency__in=quotes).delete()
            Rate.objects.bulk_create(
                [Rate(backend=backend, currency=currency, value=value) for currency, value in quotes.items()],
                update_conflicts=True,
                unique_fields=["currency", "backend"],
                update_fields=["value"],
            )
        currencies = {base, *quotes}
        # django-money caches each conversion it computes under this key.
        cache.delete_many([f"djmoney:get_rate:{a}:{b}:{name}" for a, b in permutations(currencies, 2)])


def exchange_rates_save(*, rows: list[RateRow], source: str) -> int:
    """Insert or replace rates (one per pair and day) and sync django-money. Returns
    how many rows were written."""
    errors = {f"{row.date} {row.base_currency}/{row.quote_currency}": p for row in rows if (p := _row_errors(row))}
    if errors:
        raise InvalidExchangeRates(details=errors)
    with transaction.atomic():
        ExchangeRate.objects.bulk_create(
            [
                ExchangeRate(
                    date=row.date,
                    base_currency=row.base_currency,
                    quote_currency=row.quote_currency,
                    rate=row.rate,
                    source=source[:64],
                )
                for row in rows
            ],
            update_conflicts=True,
            unique_fields=["date", "base_currency", "quote_currency"],
            update_fields=["rate", "source", "updated_at"],
        )
        _backends_sync((row.date, row.base_currency) for row in rows)
    return len(rows)


def exchange_rates_load(*, stream: TextIO, source: str) -> int:
    """A CSV file of rates (see ``exchange_rates_parse``), all or nothing."""
    return exchange_rates_save(rows=exchange_rates_parse(stream), source=source)


def exchange_rate_save(*, rate: ExchangeRate, previous: tuple[date, str] | None = None) -> ExchangeRate:
    """One rate from a form (the admin): written and synced in one transaction; a rate
    moved to another day or base leaves its old group synced too."""
    with transaction.atomic():
        rate.save()
        _backends_sync([(rate.date, rate.base_currency), *([previous] if previous else [])])
    return rate


def exchange_rate_delete(*, rate: ExchangeRate) -> None:
    with transaction.atomic():
        group = (rate.date, rate.base_currency)
        rate.delete()
        _backends_sync([group])
