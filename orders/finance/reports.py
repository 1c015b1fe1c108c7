"""The sales report: a seller's orders placed in a period, per currency, converted to
the seller's base currency with the stored rate valid on one day (by default the
period's last), which the report states. A currency with no rate is shown as not
convertible and left out of the converted totals: never a silent 1:1.

Figures per currency: orders; goods (Σ subtotal), shipping, discount, tax and gross
(Σ total, what the customers pay); net = gross − tax. Orders count from their
placement, in the seller's time zone; cancelled orders are left out, partly cancelled
ones count with what is left of them. Converted amounts are rounded half-up to the
base currency's minor unit; converted net is converted gross − converted tax, so the
converted columns add up too.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Count, Sum
from djmoney.money import Money

from core.money import round_money, zero
from orders.finance.exceptions import InvalidReportPeriod
from orders.finance.selectors import StatedRate, exchange_rate_for
from orders.models import Order
from orders.status import Lifecycle
from sellers.models import Seller

MAX_REPORT_DAYS = 3660
AMOUNTS = ("subtotal", "shipping_total", "discount_total", "tax_total", "total")


@dataclass(frozen=True)
class ConvertedAmounts:
    gross: Money
    tax: Money
    net: Money


@dataclass(frozen=True)
class CurrencyRow:
    currency: str
    orders: int
    goods: Money
    shipping: Money
    discount: Money
    tax: Money
    gross: Money
    rate: StatedRate | None
    converted: ConvertedAmounts | None

    @property
    def net(self) -> Money:
        return self.gross - self.tax

    @property
    def convertible(self) -> bool:
        return self.converted is not None


@dataclass(frozen=True)
class SalesReport:
    seller: Seller
    base_currency: str
    date_from: date
    date_to: date
    rate_date: date
    rows: list[CurrencyRow] = field(default_factory=list)

    @property
    def orders(self) -> int:
        return sum(row.orders for row in self.rows)

    @property
    def not_convertible(self) -> list[str]:
        return [row.currency for row in self.rows if not row.convertible]

    @property
    def complete(self) -> bool:
        """Every currency converted: the base-currency totals cover every order."""
        return not self.not_convertible

    def _total(self, name: str) -> Money:
        return sum(
            (getattr(row.converted, name) for row in self.rows if row.converted is not None), zero(self.base_currency)
        )

    @property
    def gross(self) -> Money:
        return self._total("gross")

    @property
    def tax(self) -> Money:
        return self._total("tax")

    @property
    def net(self) -> Money:
        return self._total("net")


EARLIEST_REPORT_DAY, LATEST_REPORT_DAY = date(1970, 1, 1), date(9000, 12, 31)


def report_period_check(*, date_from: date, date_to: date) -> None:
    for name, day in (("from", date_from), ("to", date_to)):
        if not EARLIEST_REPORT_DAY <= day <= LATEST_REPORT_DAY:
            raise InvalidReportPeriod(
                details={name: [f"Must be between {EARLIEST_REPORT_DAY} and {LATEST_REPORT_DAY}."]}
            )
    if date_to < date_from:
        raise InvalidReportPeriod(details={"to": ["Must not be before from."]})
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise InvalidReportPeriod(details={"to": [f"A report covers at most {MAX_REPORT_DAYS} days."]})


def _bounds(seller: Seller, date_from: date, date_to: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(seller.timezone)
    return datetime.combine(date_from, time(0), tzinfo=tz), datetime.combine(
        date_to + timedelta(days=1), time(0), tzinfo=tz
    )


def _convert(row: dict, currency: str, rate: StatedRate) -> ConvertedAmounts:
    gross = rate.convert(Money(row["total"], currency))
    tax = rate.convert(Money(row["tax_total"], currency))
    return ConvertedAmounts(gross=gross, tax=tax, net=gross - tax)


def sales_report(*, seller: Seller, date_from: date, date_to: date, rate_date: date | None = None) -> SalesReport:
    """One grouped query for the orders, then one rate lookup per currency."""
    report_period_check(date_from=date_from, date_to=date_to)
    rate_date = rate_date or date_to
    start, end = _bounds(seller, date_from, date_to)
    grouped = (
        Order.objects.filter(seller=seller, placed_at__gte=start, placed_at__lt=end)
        .exclude(lifecycle__in=(Lifecycle.CANCELLED, Lifecycle.DRAFT))
        .values("currency")
        .annotate(orders=Count("id"), **{name: Sum(name) for name in AMOUNTS})
        .order_by("currency")
    )
    base = seller.base_currency
    rows = []
    for row in grouped:
        currency = row["currency"]
        rate = exchange_rate_for(source=currency, target=base, on=rate_date)
        # Sums of amounts on the grid are on the grid; rounding only drops the database's extra places.
        amounts = {name: round_money(Money(row[name] or Decimal(0), currency)) for name in AMOUNTS}
        rows.append(
            CurrencyRow(
                currency=currency,
                orders=row["orders"],
                goods=amounts["subtotal"],
                shipping=amounts["shipping_total"],
                discount=amounts["discount_total"],
                tax=amounts["tax_total"],
                gross=amounts["total"],
                rate=rate,
                converted=_convert(row, currency, rate) if rate is not None else None,
            )
        )
    return SalesReport(
        seller=seller, base_currency=base, date_from=date_from, date_to=date_to, rate_date=rate_date, rows=rows
    )
