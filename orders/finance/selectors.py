"""Reads for tax and currencies."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, Subquery
from djmoney.contrib.exchange.exceptions import MissingRate
from djmoney.contrib.exchange.models import convert_money, get_rate
from djmoney.money import Money

from core.cache import ConfigCache, restore, snapshot
from core.money import round_money
from orders.finance.models import ExchangeRate, TaxRate, backend_name


def _valid_on(on: date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))


# (seller, country, date) → snapshots of the rates, or None; cleared by finance.apps.
tax_rates_cache = ConfigCache("tax rates")


def tax_rates_at(*, seller_id: int, country: str, on: date) -> list[TaxRate] | None:
    """The seller's rates for ``country`` valid on ``on`` (every region and class), or
    None when the seller has no tax rates at all. Every order asks, so the answer is
    kept in the process's cache for a few seconds (core.cache)."""

    def read() -> tuple | None:
        rates = _tax_rates_read(seller_id=seller_id, country=country, on=on)
        return None if rates is None else tuple(snapshot(rate) for rate in rates)

    cached = tax_rates_cache.get_or_read((seller_id, country, on), read)
    return None if cached is None else [restore(TaxRate, values) for values in cached]


def _tax_rates_read(*, seller_id: int, country: str, on: date) -> list[TaxRate] | None:
    """One query: the seller's first rate comes along to tell "no rates here" from "no
    rates anywhere"."""
    first = TaxRate.objects.filter(seller_id=seller_id).order_by("pk").values("pk")[:1]
    rows = list(
        TaxRate.objects.filter(seller_id=seller_id).filter((Q(country=country) & _valid_on(on)) | Q(pk=Subquery(first)))
    )
    if not rows:
        return None
    return [
        rate
        for rate in rows
        if rate.country == country
        and (rate.valid_from is None or rate.valid_from <= on)
        and (rate.valid_until is None or rate.valid_until >= on)
    ]


@dataclass(frozen=True)
class StatedRate:
    """The rate a conversion used and where it came from: 1 ``source`` = ``rate``
    ``target``, from the rates of ``date`` against ``base`` (``via``: direct, inverse
    or cross through two quotes of that base); ``backend`` is django-money's."""

    source: str
    target: str
    rate: Decimal
    date: date | None
    base: str
    via: str
    origin: str  # where the stored rates came from, e.g. "ECB" or a file name
    backend: str
    stored: str = ""  # the stored rate(s) it derives from, as written, e.g. "1 EUR = 11.17 SEK"

    @property
    def display(self) -> str:
        """The rate to eight significant digits (an inverse or cross rate has many)."""
        return f"{self.rate.normalize():.8g}" if self.rate.adjusted() < 8 else f"{self.rate:f}"

    def convert(self, money: Money) -> Money:
        """``money`` in the target currency through django-money, rounded half-up to
        the target's minor unit."""
        if self.via == "same":
            return round_money(money)
        return round_money(convert_money(money, self.target, backend=self.backend))


def _latest(rows) -> ExchangeRate | None:
    return rows.order_by("-date").first()


def exchange_rate_for(*, source: str, target: str, on: date) -> StatedRate | None:
    """The most recent stored rate on or before ``on`` that converts ``source`` to
    ``target``: a direct or inverse pair, or two quotes of one base on one day. None
    when there is none (never a silent 1:1). Two queries, three for a cross rate."""
    if source == target:
        return StatedRate(source, target, Decimal(1), None, source, "same", "same currency", "")
    dated = ExchangeRate.objects.filter(date__lte=on)
    direct = _latest(
        dated.filter(Q(base_currency=source, quote_currency=target) | Q(base_currency=target, quote_currency=source))
    )
    partner = ExchangeRate.objects.filter(
        date=OuterRef("date"), base_currency=OuterRef("base_currency"), quote_currency=target
    )
    cross = _latest(dated.filter(Exists(partner), quote_currency=source))
    if cross is not None and (direct is None or cross.date > direct.date):
        chosen, via = cross, "cross"
    elif direct is not None:
        chosen, via = direct, "direct" if direct.base_currency == source else "inverse"
    else:
        return None
    backend = backend_name(chosen.date, chosen.base_currency)
    try:
        rate = Decimal(get_rate(source, target, backend=backend))
    except MissingRate:
        return None  # django-money's tables are behind ours: no conversion rather than a guess
    used = [chosen]
    if via == "cross":
        used += list(
            ExchangeRate.objects.filter(date=chosen.date, base_currency=chosen.base_currency, quote_currency=target)
        )
    return StatedRate(
        source=source,
        target=target,
        rate=rate,
        date=chosen.date,
        base=chosen.base_currency,
        via=via,
        origin=", ".join(sorted({row.source for row in used})),
        backend=backend,
        stored=", ".join(f"1 {row.base_currency} = {row.rate.normalize():f} {row.quote_currency}" for row in used),
    )
