"""A year of one seller's orders as plain data, from one seeded random generator.

Demand is shaped the way a forecaster expects to find it: a weekly rhythm (Monday and
Sunday peaks, a Saturday trough), a mild upward trend, Black Friday and a December
peak with a Christmas dip, seasonal products, and a popularity curve steep enough that
the best sellers go every day while the tail sells now and then (intermittent demand).
Nothing here touches the database; ``writer`` turns the plans into rows.
"""

import math
import random
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from djmoney.money import Money

from core.money import round_money
from orders.demo.catalog import ChannelSpec, ProductSpec, SellerSpec
from orders.demo.people import (
    CITIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LANGUAGE_BY_COUNTRY,
    LAST_NAMES,
    STREETS,
    City,
    ascii_slug,
    street_address,
)

UTC = ZoneInfo("UTC")

# Monday … Sunday: shoppers browse on Sunday evening and buy on Monday; Saturday is quiet.
WEEKDAY_FACTORS = (1.25, 1.05, 1.0, 0.96, 0.88, 0.68, 1.18)

# Local hour of day → share of orders, for channels open around the clock.
ONLINE_HOURS = (2, 1, 0.6, 0.4, 0.4, 0.7, 1.4, 2.8, 4, 5, 5.5, 6, 6.5, 6, 5.5, 5, 5, 5.5, 6, 7, 7.5, 7, 5, 3.5)
SHOP_HOURS = tuple(0 if h < 10 or h > 18 else (3 if 12 <= h <= 14 or h >= 16 else 2) for h in range(24))
OFFICE_HOURS = tuple(0 if h < 9 or h > 16 else 2 for h in range(24))
HOURS_BY_CHANNEL = {"pos": SHOP_HOURS, "manual": OFFICE_HOURS}

SEASON_BY_MONTH = {
    "winter": {11: 2.6, 12: 3.0, 1: 2.2, 2: 1.6, 3: 0.9, 10: 1.2},
    "summer": {5: 1.8, 6: 2.4, 7: 2.6, 8: 2.0, 4: 1.1, 9: 1.0},
}
OFF_SEASON = 0.3

LINES_PER_ORDER = ((1, 2, 3, 4), (62, 25, 9, 4))
QUANTITIES = ((1, 2, 3), (86, 11, 3))
PROMO_SHARE = 0.12
HOLIDAY_PROMO_SHARE = 0.35


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    email: str
    line1: str
    city: City


@dataclass(slots=True)
class LinePlan:
    product_index: int
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    warehouse_code: str


@dataclass(slots=True)
class OrderPlan:
    placed_at: datetime
    channel: str
    channel_account: str
    external_id: str
    customer: Customer
    lines: list[LinePlan]
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal
    discount: Decimal
    total: Decimal
    payment_status: str
    promo_code: str = ""
    confirmed_at: datetime | None = None
    picking_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    number: int = 0
    metadata: dict = field(default_factory=dict)


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def calendar_factor(day: date) -> float:
    """Retail calendar: Black Friday to Cyber Monday, the December run-up to Christmas
    and its dip, a slow January, a slightly busier summer."""
    offset = (day - black_friday(day.year)).days
    if 0 <= offset <= 3:
        return (2.4, 1.9, 1.9, 2.6)[offset]
    if day.month == 12:
        if day.day <= 18:
            return 1.6
        return {24: 0.8, 25: 0.45, 26: 0.9}.get(day.day, 1.25 if day.day <= 23 else 1.0)
    if day.month == 1:
        return 0.6 if day.day == 1 else 0.85
    if day.month == 11:
        return 1.1
    if day.month in (6, 7, 8):
        return 1.05
    return 1.0


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, the normal approximation for large ones."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def distance_km(lat1: Decimal, lon1: Decimal, lat2: Decimal, lon2: Decimal) -> float:
    """Great-circle distance (haversine); good enough to pick the nearest warehouse."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742 * math.asin(math.sqrt(a))


@cache
def round_amount(amount: Decimal, currency: str) -> Decimal:
    """``round_money`` on plain amounts; cached, as the same prices recur all year."""
    return round_money(Money(amount, currency)).amount


class OrderGenerator:
    """Draws customers, baskets, routing and timing for one seller. One instance per
    seller and run: its random stream and its sets of used ids make the output
    deterministic and the external ids unique, for the history and for the open orders
    drawn after it."""

    def __init__(self, *, spec: SellerSpec, rng: random.Random, today: date, customers: int):
        self.spec = spec
        self.rng = rng
        self.today = today
        self.tz = ZoneInfo(spec.timezone)
        self.currency = spec.base_currency
        self.vat = {rate.country: rate.rate for rate in spec.tax_rates if not rate.region}
        self.popularity = [1 / (rank + 1) ** 1.1 for rank in range(len(spec.products))]
        self.countries = [country for country, _ in spec.markets]
        self.country_shares = [share for _, share in spec.markets]
        self.cities_by_country = {c: [city for city in CITIES if city.country == c] for c in self.countries}
        self.shippable = {c: self._shippable(c) for c in self.countries}
        self.cutoffs = {w.code: w.cutoff for w in spec.warehouses}
        self._weights_cache: dict[tuple, tuple[list[int], list[float]]] = {}
        self._ranked_warehouses: dict[str, tuple[str, ...]] = {}
        self._used_external_ids: set[tuple[str, str]] = set()
        self._storefront_counter = 100000
        self._emails: set[str] = set()
        self.customers = [self._new_customer() for _ in range(customers)]

    # --- customers and baskets -----------------------------------------------------

    def _shippable(self, country: str) -> dict[int, frozenset[str]]:
        """Product index → codes of the warehouses that stock it and ship to ``country``."""
        result = {}
        for index, product in enumerate(self.spec.products):
            codes = frozenset(
                w.code for w in self.spec.warehouses if w.code in product.stocked_in and country in w.ships_to
            )
            if codes:
                result[index] = codes
        return result

    def _new_customer(self) -> Customer:
        rng = self.rng
        country = rng.choices(self.countries, self.country_shares)[0]
        cities = self.cities_by_country[country]
        city = rng.choices(cities, [c.weight for c in cities])[0]
        language = LANGUAGE_BY_COUNTRY[country]
        first, last = rng.choice(FIRST_NAMES[language]), rng.choice(LAST_NAMES[language])
        local_part = f"{ascii_slug(first)}.{ascii_slug(last)}"
        email = f"{local_part}@{rng.choice(EMAIL_DOMAINS[language])}"
        while email in self._emails:
            email = f"{local_part}{rng.randint(2, 999)}@{rng.choice(EMAIL_DOMAINS[language])}"
        self._emails.add(email)
        line1 = street_address(language, rng.choice(STREETS[language]), rng.randint(1, 240))
        return Customer(name=f"{first} {last}", email=email, line1=line1, city=city)

    def customer(self) -> Customer:
        """Loyal customers come back: low indexes are drawn far more often."""
        return self.customers[int(len(self.customers) * self.rng.random() ** 1.8)]

    def _product_weights(self, day: date, country: str) -> tuple[list[int], list[float]]:
        days_ago = (self.today - day).days
        launched = tuple(p.launched_days_ago is None or days_ago <= p.launched_days_ago for p in self.spec.products)
        key = (day.month, country, launched)
        if key not in self._weights_cache:
            indexes = [i for i in self.shippable[country] if launched[i]]
            weights = [self.popularity[i] * self._season(self.spec.products[i], day.month) for i in indexes]
            cumulative, running = [], 0.0
            for weight in weights:
                running += weight
                cumulative.append(running)
            self._weights_cache[key] = (indexes, cumulative)
        return self._weights_cache[key]

    @staticmethod
    def _season(product: ProductSpec, month: int) -> float:
        if not product.season:
            return 1.0
        return SEASON_BY_MONTH[product.season].get(month, OFF_SEASON)

    def basket(self, day: date, country: str) -> list[tuple[int, int]]:
        """(product index, quantity) pairs, distinct products, drawn by popularity."""
        rng = self.rng
        indexes, cumulative = self._product_weights(day, country)
        wanted = min(rng.choices(*LINES_PER_ORDER)[0], len(indexes))
        chosen: list[int] = []
        total = cumulative[-1]
        while len(chosen) < wanted:
            index = indexes[bisect_left(cumulative, rng.random() * total)]
            if index not in chosen:
                chosen.append(index)
        return [(index, rng.choices(*QUANTITIES)[0]) for index in chosen]

    # --- routing, pricing, timing --------------------------------------------------

    def route(self, basket: Sequence[tuple[int, int]], city: City) -> list[str]:
        """Warehouse code per line: the nearest warehouse that holds the whole basket,
        else the nearest holding each line (a split shipment)."""
        ranked = self._nearest_first(city)
        options = [self.shippable[city.country][index] for index, _ in basket]
        common = frozenset.intersection(*options)
        if common:
            return [next(code for code in ranked if code in common)] * len(basket)
        return [next(code for code in ranked if code in codes) for codes in options]

    def _nearest_first(self, city: City) -> tuple[str, ...]:
        if city.name not in self._ranked_warehouses:
            by_distance = sorted(
                self.spec.warehouses,
                key=lambda w: distance_km(w.latitude, w.longitude, city.latitude, city.longitude),
            )
            self._ranked_warehouses[city.name] = tuple(w.code for w in by_distance)
        return self._ranked_warehouses[city.name]

    def channel(self) -> ChannelSpec:
        return self.rng.choices(self.spec.channels, [c.share for c in self.spec.channels])[0]

    def external_id(self, channel: str, account: str) -> str:
        rng = self.rng
        while True:
            if channel == "amazon":
                candidate = f"{rng.randint(111, 114)}-{rng.randint(0, 9999999):07d}-{rng.randint(0, 9999999):07d}"
            elif channel == "ebay":
                candidate = f"{rng.randint(10, 27)}-{rng.randint(10000, 99999)}-{rng.randint(10000, 99999)}"
            elif channel == "storefront":
                self._storefront_counter += 1
                candidate = f"W{self._storefront_counter}"
            else:
                return ""
            if (account, candidate) not in self._used_external_ids:
                self._used_external_ids.add((account, candidate))
                return candidate

    def promo(self, channel: str, day: date) -> tuple[str, Decimal]:
        if channel != "storefront":
            return "", Decimal(0)
        offset = (day - black_friday(day.year)).days
        if (0 <= offset <= 3 or (day.month == 12 and day.day <= 20)) and self.rng.random() < HOLIDAY_PROMO_SHARE:
            return self.spec.holiday_promo
        if self.rng.random() < PROMO_SHARE:
            return self.rng.choice(self.spec.promo_codes)
        return "", Decimal(0)

    def shipping_fee(self, channel: str, country: str, goods: Decimal) -> Decimal:
        spec = self.spec
        if channel in ("pos", "amazon"):
            return Decimal(0)  # carried out of the shop / Prime
        if country not in spec.home_countries:
            return spec.international_shipping_fee
        if channel == "storefront" and goods >= spec.free_shipping_over:
            return Decimal(0)
        return spec.shipping_fee

    def charges(self, channel: str, day: date, city: City, subtotal: Decimal) -> tuple[str, Decimal, Decimal, Decimal]:
        """Promo code, discount, shipping and tax of a basket worth ``subtotal``. Sales
        tax is added on top where prices exclude it (US, Canada); with VAT-inclusive
        prices the tax is the VAT of the destination inside what is charged, kept at
        order level (the orders placed today get it per line from the seller's rates)."""
        currency = self.currency
        promo_code, rate = self.promo(channel, day)
        discount = round_amount(subtotal * rate, currency)
        shipping = self.shipping_fee(channel, city.country, subtotal - discount)
        charged = subtotal - discount + shipping
        if self.spec.prices_include_tax:
            vat = self.vat.get(city.country, Decimal(0))
            return promo_code, discount, shipping, round_amount(charged * vat / (1 + vat), currency)
        return promo_code, discount, shipping, round_amount(charged * city.sales_tax, currency)

    def order_total(self, *, subtotal: Decimal, shipping: Decimal, tax: Decimal, discount: Decimal) -> Decimal:
        """Tax is added on top only where prices exclude it."""
        if self.spec.prices_include_tax:
            return subtotal + shipping - discount
        return subtotal + shipping + tax - discount

    def placed_at(self, day: date, channel: str) -> datetime:
        rng = self.rng
        hour = rng.choices(range(24), HOURS_BY_CHANNEL.get(channel, ONLINE_HOURS))[0]
        local = datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=self.tz)
        return local.astimezone(UTC)

    def fulfilment_times(
        self, placed: datetime, *, cutoff: time, domestic: bool, now: datetime
    ) -> tuple[datetime, ...]:
        """Confirmed, picking, shipped and delivered times. Picking starts the same day
        before the warehouse's cut-off (on the seller's clock), else the next working
        morning; nothing moves on Sunday."""
        rng = self.rng
        confirmed = placed + timedelta(seconds=rng.randint(2, 90))
        local = placed.astimezone(self.tz)
        if local.time() < cutoff and local.weekday() != 6:
            picking = placed + timedelta(minutes=rng.randint(20, 300))
        else:
            next_day = (local + timedelta(days=1)).replace(hour=8, minute=0, second=0)
            if next_day.weekday() == 6:
                next_day += timedelta(days=1)
            picking = next_day.astimezone(UTC) + timedelta(minutes=rng.randint(0, 240))
        shipped = picking + timedelta(minutes=rng.randint(30, 200))
        transit = rng.randint(1, 4) if domestic else rng.randint(4, 9)
        delivered = shipped + timedelta(days=transit, hours=rng.randint(0, 8))
        latest = max(now - timedelta(minutes=5), placed + (now - placed) / 2)
        if shipped > latest:
            # A late order of yesterday: squeeze its timeline so it has shipped by now.
            scale = (latest - placed) / (shipped - placed)
            confirmed = placed + (confirmed - placed) * scale
            picking = placed + (picking - placed) * scale
            shipped = latest
        return confirmed, picking, shipped, delivered

    # --- the year ----------------------------------------------------------------------

    def daily_counts(self, *, start: date, days: int, orders_per_day: float) -> list[tuple[date, int]]:
        base = orders_per_day * self.spec.volume
        counts = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            trend = 0.85 + 0.3 * offset / max(days - 1, 1)
            noise = self.rng.lognormvariate(0, 0.12)
            mean = base * trend * WEEKDAY_FACTORS[day.weekday()] * calendar_factor(day) * noise
            counts.append((day, poisson(self.rng, mean)))
        return counts

    def order(self, day: date, now: datetime) -> OrderPlan:
        spec, currency = self.spec, self.currency
        channel_spec = self.channel()
        channel = channel_spec.channel
        customer = self.customer()
        basket = self.basket(day, customer.city.country)
        warehouses = self.route(basket, customer.city)
        lines = []
        for (index, quantity), code in zip(basket, warehouses, strict=True):
            price = spec.products[index].price
            lines.append(LinePlan(index, quantity, price, round_amount(price * quantity, currency), code))
        subtotal = sum((line.line_total for line in lines), Decimal(0))
        promo_code, discount, shipping, tax = self.charges(channel, day, customer.city, subtotal)
        placed = self.placed_at(day, channel)
        confirmed, picking, shipped, delivered = self.fulfilment_times(
            placed,
            cutoff=self.cutoffs[warehouses[0]],
            domestic=customer.city.country in spec.home_countries,
            now=now,
        )
        plan = OrderPlan(
            placed_at=placed,
            channel=channel,
            channel_account=channel_spec.account,
            external_id=self.external_id(channel, channel_spec.account),
            customer=customer,
            lines=lines,
            subtotal=subtotal,
            shipping=shipping,
            tax=tax,
            discount=discount,
            total=self.order_total(subtotal=subtotal, shipping=shipping, tax=tax, discount=discount),
            payment_status="paid_externally" if channel in ("amazon", "ebay") else "paid",
            promo_code=promo_code,
            confirmed_at=confirmed,
            picking_at=picking,
            shipped_at=shipped,
            delivered_at=delivered if delivered <= now else None,
        )
        if promo_code:
            plan.metadata["promo_code"] = promo_code
        return plan

    def history(self, *, days: int, orders_per_day: float, now: datetime) -> list[OrderPlan]:
        """Orders of the ``days`` days before today, oldest first, numbered 1…N."""
        start = self.today - timedelta(days=days)
        plans = [
            self.order(day, now)
            for day, count in self.daily_counts(start=start, days=days, orders_per_day=orders_per_day)
            for _ in range(count)
        ]
        plans.sort(key=lambda plan: plan.placed_at)
        for number, plan in enumerate(plans, start=1):
            plan.number = number
        return plans


def expected_customers(*, days: int, orders_per_day: float, volume: float) -> int:
    """Enough customers that most buy a few times a year and some much more often."""
    return max(60, int(days * orders_per_day * volume * 0.3))
