"""Seeding the demo: a seller at a time, each in one transaction, skipped when its
slug already exists, so a second run adds nothing. The past is bulk-written
(``writer``); everything current goes through the real services: today's deliveries
through ``stock_receive``, the open orders through ``order_place`` (with allocations,
reserved stock, and a hold raised by the seller's country-mismatch risk rule), a
cancellation through ``order_cancel``, the start of picking through
``order_transition``.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from core.actor import Actor
from inventory.exceptions import InsufficientStock
from inventory.models import BackorderPolicy, KitComponent, Product, ProductKind, Warehouse
from inventory.services import stock_receive
from orders.demo.catalog import SELLERS, SellerSpec
from orders.demo.history import OrderGenerator, expected_customers
from orders.demo.ledger import StockKey, StockPolicy, simulate_ledger, whole_cases
from orders.demo.people import CITIES, City
from orders.demo.writer import Catalog, HistoryCounts, catalog_create, history_write, stocks_create
from orders.finance.management.commands.exchange_rates_load import SAMPLE as SAMPLE_EXCHANGE_RATES
from orders.finance.models import TaxRate
from orders.finance.selectors import exchange_rate_for
from orders.finance.services.exchange import exchange_rates_load
from orders.models import Order, RiskRule, RiskRuleKind
from orders.services import AddressInput, LineInput, OrderInput, order_cancel, order_place, order_transition
from orders.services.placement import ORDER_NUMBER_SEQUENCE
from orders.services.risk import risk_params_clean
from orders.status import Lifecycle
from sellers.models import ApiScope, Seller, SellerSequence, StaffRole
from sellers.services import api_key_create, membership_grant

ACTOR = Actor.system("demo seed")
ADMIN_USERNAME = "admin"
MARKETPLACE_CHANNELS = ("amazon", "ebay")
# Lindqvist's Swedish web shop charges in kronor: its prices are the euro prices at the
# stored exchange rate, so the sales report has a currency to convert.
LOCAL_SHOP_CURRENCY = {("lindqvist", "SE"): "SEK"}


@dataclass(frozen=True)
class SeedOptions:
    orders_per_day: float = 20.0  # per seller on an ordinary day, before its volume factor
    days: int = 365
    open_orders: int = 15  # per seller, placed today through order_place
    seed: int = 1042
    password: str = "waybill-demo"


@dataclass
class SellerResult:
    spec: SellerSpec
    seller: Seller
    created: bool
    api_key: str = ""
    history: HistoryCounts | None = None
    open_orders: int = 0
    not_placed: int = 0


@dataclass
class SeedResult:
    sellers: list[SellerResult] = field(default_factory=list)
    seconds: float = 0.0


def _history_start(tz: ZoneInfo, today: date, days: int) -> datetime:
    """When the opening stock was booked: the morning two days before the first order."""
    return datetime.combine(today - timedelta(days=days + 2), clock(9), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def _todays_deliveries(
    *,
    catalog: Catalog,
    balances: dict[StockKey, int],
    policies: dict[StockKey, StockPolicy],
    spec: SellerSpec,
    today: date,
) -> int:
    """Purchase orders arriving this morning at the main warehouse for whatever is
    near its reorder point (the other warehouses are left to show low stock)."""
    main = min(spec.warehouses, key=lambda w: w.priority).code
    received = 0
    for (index, code), balance in sorted(balances.items()):
        policy = policies[(index, code)]
        if code != main or balance >= 2 * policy.reorder_point:
            continue
        received += 1
        stock_receive(
            product=catalog.products[index],
            warehouse=catalog.warehouses[code],
            quantity=whole_cases(policy.order_up_to - balance),
            actor=ACTOR,
            reference=f"PO-{spec.slug[:2].upper()}-{today:%y%m%d}-{received:02d}",
            reason="Purchase order received",
        )
    return received


def _address(name: str, line1: str, city: City) -> AddressInput:
    return AddressInput(
        name=name,
        line1=line1,
        city=city.name,
        region=city.region,
        postal_code=city.postal_code,
        country=city.country,
        latitude=city.latitude,
        longitude=city.longitude,
    )


def _tax_rates_create(*, seller: Seller, spec: SellerSpec) -> None:
    TaxRate.objects.bulk_create(
        TaxRate(seller=seller, country=rate.country, region=rate.region, rate=rate.rate, name=rate.name)
        for rate in spec.tax_rates
    )


def _local_prices(spec: SellerSpec, country: str, channel: str, today: date) -> Callable[[Decimal], Decimal] | None:
    """The conversion of a base-currency amount to the local shop's currency, if the
    seller's shop for ``country`` charges in another currency and a rate is stored."""
    currency = LOCAL_SHOP_CURRENCY.get((spec.slug, country))
    if currency is None or channel != "storefront":
        return None
    rate = exchange_rate_for(source=spec.base_currency, target=currency, on=today)
    if rate is None:
        return None
    return lambda amount: rate.convert(Money(amount, spec.base_currency)).amount


def _open_order_input(generator: OrderGenerator, placed_at: datetime, *, billed_abroad: bool) -> OrderInput:
    """Marketplaces send the tax they charged; Waybill computes it for the other
    channels from the seller's rates, so those send none."""
    spec, today, rng = generator.spec, generator.today, generator.rng
    channel = generator.channel()
    customer = generator.customer()
    city = customer.city
    basket = generator.basket(today, city.country)
    subtotal = sum((spec.products[index].price * quantity for index, quantity in basket), Decimal(0))
    promo_code, discount, shipping, tax = generator.charges(channel.channel, today, city, subtotal)
    billing = None
    if billed_abroad:
        elsewhere = rng.choice([c for c in CITIES if c.country != city.country])
        billing = _address(customer.name, customer.line1, elsewhere)
    currency, lines = spec.base_currency, [LineInput(sku=spec.products[i].sku, quantity=q) for i, q in basket]
    if local := _local_prices(spec, city.country, channel.channel, today):
        currency = LOCAL_SHOP_CURRENCY[(spec.slug, city.country)]
        lines = [
            LineInput(sku=spec.products[i].sku, quantity=q, unit_price=local(spec.products[i].price)) for i, q in basket
        ]
        discount, shipping = min(local(discount), local(subtotal)), local(shipping)
    return OrderInput(
        currency=currency,
        shipping_address=_address(customer.name, customer.line1, city),
        billing_address=billing,
        lines=lines,
        channel=channel.channel,
        channel_account=channel.account,
        external_id=generator.external_id(channel.channel, channel.account),
        customer_email=customer.email,
        customer_name=customer.name,
        shipping_total=shipping,
        tax_total=tax if channel.channel in MARKETPLACE_CHANNELS else None,
        discount_total=discount,
        metadata={"promo_code": promo_code} if promo_code else {},
        paid_externally=channel.channel in MARKETPLACE_CHANNELS,
        placed_at=placed_at,
    )


def _open_orders_place(*, seller: Seller, generator: OrderGenerator, count: int, now: datetime) -> tuple[int, int]:
    """Today's orders through the real service, then some moved along: the first is
    cancelled, the second billed abroad so the seller's country-mismatch rule holds it
    for review, the next two are being picked. Returns (placed, not placed)."""
    RiskRule.objects.create(
        seller=seller,
        kind=RiskRuleKind.COUNTRY_MISMATCH,
        params=risk_params_clean(kind=RiskRuleKind.COUNTRY_MISMATCH, params={}),
    )
    midnight = datetime.combine(generator.today, clock(0), tzinfo=generator.tz)
    end = now - timedelta(minutes=1)
    start = min(max(midnight, now - timedelta(hours=10)), end - timedelta(minutes=30))
    times = sorted(start + (end - start) * generator.rng.random() for _ in range(count))
    placed: list[Order] = []
    not_placed = 0
    for position, placed_at in enumerate(times):
        data = _open_order_input(generator, placed_at, billed_abroad=position == 1)
        try:
            placed.append(order_place(seller=seller, data=data, actor=ACTOR))
        except InsufficientStock:
            not_placed += 1
    confirmed = [order for order in placed if order.lifecycle == Lifecycle.CONFIRMED]
    if confirmed:
        reason = "Customer asked to cancel before picking."
        order_cancel(seller_id=seller.pk, order_id=confirmed[0].pk, actor=ACTOR, reason=reason)
    for order in confirmed[1:3]:
        order_transition(seller_id=seller.pk, order_id=order.pk, to=Lifecycle.IN_FULFILLMENT, actor=ACTOR)
    return len(placed), not_placed


# Demo data of the apps above orders (shipping's carriers, say): each registers a step in
# its AppConfig.ready(), run for every new demo seller inside its transaction, so this
# module imports none of them.
DemoStep = Callable[[Seller], None]
_demo_steps: dict[str, DemoStep] = {}


def demo_step_register(name: str, step: DemoStep) -> None:
    _demo_steps[name] = step


def _selling_options_create(*, catalog: Catalog, spec: SellerSpec, today: date) -> None:
    """What the year's history does not show: a gift set sold from two products' stock,
    a product that takes backorders, one on preorder, and a pickup counter at the
    first warehouse."""
    seller, products = catalog.seller, catalog.products
    first, second = products[0], products[1]
    gift = Product.objects.create(
        seller=seller,
        sku=f"{first.sku}-SET",
        name=f"Gift set: {first.name} and {second.name}",
        price=first.price + second.price,
        barcode=spec.barcode(len(products)),
        weight_grams=first.weight_grams + second.weight_grams,
        length_mm=max(first.length_mm, second.length_mm),
        width_mm=max(first.width_mm, second.width_mm),
        height_mm=first.height_mm + second.height_mm,
        kind=ProductKind.KIT,
    )
    KitComponent.objects.bulk_create(
        [KitComponent(kit=gift, component=first, quantity=1), KitComponent(kit=gift, component=second, quantity=1)]
    )
    Product.objects.filter(pk=products[2].pk).update(backorder_policy=BackorderPolicy.ALLOW)
    Product.objects.create(
        seller=seller,
        sku=f"{first.sku}-NEXT",
        name=f"{first.name}, next edition (preorder)",
        price=first.price,
        barcode=spec.barcode(len(products) + 1),
        weight_grams=first.weight_grams,
        length_mm=first.length_mm,
        width_mm=first.width_mm,
        height_mm=first.height_mm,
        backorder_policy=BackorderPolicy.PREORDER,
        preorder_cap=200,
        release_date=today + timedelta(days=30),
    )
    Warehouse.objects.filter(pk=next(iter(catalog.warehouses.values())).pk).update(is_pickup_location=True)


def seller_seed(*, spec: SellerSpec, options: SeedOptions, now: datetime, log: Callable[[str], None]) -> SellerResult:
    """One seller with its year, in one transaction."""
    tz = ZoneInfo(spec.timezone)
    today = now.astimezone(tz).date()
    rng = random.Random(f"{options.seed}:{spec.slug}")
    customers = expected_customers(days=options.days, orders_per_day=options.orders_per_day, volume=spec.volume)
    generator = OrderGenerator(spec=spec, rng=rng, today=today, customers=customers)
    plans = generator.history(days=options.days, orders_per_day=options.orders_per_day, now=now)
    opened_at = _history_start(tz, today, options.days)
    keys = [(index, code) for index, product in enumerate(spec.products) for code in product.stocked_in]
    ledger, balances, policies = simulate_ledger(
        orders=plans,
        keys=keys,
        opened_at=opened_at,
        days=options.days,
        po_prefix=f"PO-{spec.slug[:2].upper()}-",
        rng=rng,
    )
    log(f"  {spec.name}: simulated {len(plans)} orders and {len(ledger)} ledger entries")
    with transaction.atomic():
        catalog = catalog_create(spec=spec, opened_at=opened_at, now=now)
        _tax_rates_create(seller=catalog.seller, spec=spec)
        stocks = stocks_create(catalog=catalog, balances=balances, aisles=spec.bin_aisles)
        history = history_write(catalog=catalog, plans=plans, ledger=ledger, stocks=stocks, actor=ACTOR)
        SellerSequence.objects.create(seller=catalog.seller, name=ORDER_NUMBER_SEQUENCE, last_value=len(plans))
        log(f"  {spec.name}: wrote {history.orders} orders, {history.events} events")
        _selling_options_create(catalog=catalog, spec=spec, today=today)
        for step in _demo_steps.values():
            step(catalog.seller)
        _todays_deliveries(catalog=catalog, balances=balances, policies=policies, spec=spec, today=today)
        placed, not_placed = _open_orders_place(
            seller=catalog.seller, generator=generator, count=options.open_orders, now=now
        )
        issued = api_key_create(seller=catalog.seller, name="Demo storefront", scopes=list(ApiScope.values))
    return SellerResult(
        spec=spec,
        seller=catalog.seller,
        created=True,
        api_key=issued.raw_key,
        history=history,
        open_orders=placed,
        not_placed=not_placed,
    )


def _users_ensure(*, password: str, sellers: list[SellerResult]) -> None:
    """The superuser and one manager per seller. The password is (re)set on every
    run, hashed once: hashing is the slowest step of a second run."""
    user_model = get_user_model()
    password_hash = make_password(password)
    admin, _ = user_model.objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": "admin@waybill.localhost", "first_name": "Waybill"}
    )
    admin.is_staff = admin.is_superuser = admin.is_active = True
    admin.password = password_hash
    admin.save()
    for result in sellers:
        spec = result.spec
        first, last = spec.staff_name
        user, _ = user_model.objects.get_or_create(
            username=spec.staff_username,
            defaults={"email": f"{spec.staff_username}@waybill.localhost", "first_name": first, "last_name": last},
        )
        user.is_active = True
        user.password = password_hash
        user.save()
        membership_grant(seller=result.seller, user=user, role=StaffRole.MANAGER)


def seed_demo(*, options: SeedOptions, log: Callable[[str], None] = lambda message: None) -> SeedResult:
    started = time.monotonic()
    now = timezone.now()
    result = SeedResult()
    with SAMPLE_EXCHANGE_RATES.open(newline="", encoding="utf-8") as rates:
        exchange_rates_load(stream=rates, source="sample rates (illustrative)")
    for spec in SELLERS:
        existing = Seller.objects.filter(slug=spec.slug).first()
        if existing is not None:
            log(f"  {spec.name}: already seeded, left as it is")
            result.sellers.append(SellerResult(spec=spec, seller=existing, created=False))
        else:
            result.sellers.append(seller_seed(spec=spec, options=options, now=now, log=log))
    _users_ensure(password=options.password, sellers=result.sellers)
    result.seconds = time.monotonic() - started
    return result
