"""``manage.py seed_demo`` at a small scale: what the demo promises (two sellers,
located warehouses, a catalogue, a year of seasonal and skewed history) and what every
row must satisfy whoever wrote it (ledgers that add up to on hand, reservations that
match allocations, totals that add up, gap-free numbers). Run twice, it adds nothing."""

from collections import Counter, defaultdict
from datetime import timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import Product, Stock, StockLedgerEntry, Warehouse
from orders.finance.tax.calculation import order_total
from orders.models import Allocation, EventType, Order, OrderEvent, OrderLine
from orders.status import Lifecycle
from sellers.models import ApiKey, Seller, SellerSequence, StaffMembership

pytestmark = pytest.mark.django_db

SMALL = ("--orders-per-day", "2", "--open-orders", "5")
COUNTED = (Seller, Warehouse, Product, Stock, StockLedgerEntry, Order, OrderLine, OrderEvent, Allocation, ApiKey)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", *SMALL, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def ean13_is_valid(code: str) -> bool:
    digits = [int(c) for c in code]
    return len(digits) == 13 and sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10 == 0


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction that is rolled back at its end;
    each test runs in a savepoint of it, so what a test changes goes away with it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


def test_second_run_adds_nothing_and_keys_are_shown_once(seeded):
    before = counts()

    second = seed()

    assert counts() == before
    assert seeded.count("wb_") >= 2 and "wb_" not in second
    assert "already seeded" in second
    assert "create_api_key --seller northwind" in second
    assert "http://127.0.0.1:8000/admin/" in second and "/api/docs/" in second


def test_logins_admin_sees_all_and_each_manager_one_seller(seeded):
    users = get_user_model().objects
    admin = users.get(username="admin")
    assert admin.is_superuser and admin.check_password("waybill-demo")
    for slug in ("northwind", "lindqvist"):
        manager = users.get(username=slug)
        assert manager.is_staff and not manager.is_superuser and manager.check_password("waybill-demo")
        assert list(StaffMembership.objects.filter(user=manager).values_list("seller__slug", flat=True)) == [slug]


def test_demo_password_comes_from_the_environment(seeded, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-secret-1")

    seed()

    assert get_user_model().objects.get(username="northwind").check_password("another-secret-1")


def test_two_sellers_with_located_warehouses_and_a_real_catalogue(seeded):
    sellers = {s.slug: s for s in Seller.objects.all()}
    assert set(sellers) == {"northwind", "lindqvist"}
    assert (sellers["northwind"].base_currency, sellers["lindqvist"].base_currency) == ("USD", "EUR")
    warehouses = list(Warehouse.objects.all())
    assert len(warehouses) >= 3
    assert all(w.latitude is not None and w.longitude is not None and w.ships_to for w in warehouses)
    products = list(Product.objects.select_related("seller"))
    assert len(products) >= 50
    assert all(ean13_is_valid(p.barcode) for p in products)
    assert all(str(p.price.currency) == p.seller.base_currency and p.price.amount > 0 for p in products)
    assert all(p.weight_grams and p.length_mm and p.width_mm and p.height_mm for p in products)
    stocked_in = Counter(Stock.objects.values_list("product_id", flat=True))
    assert max(stocked_in.values()) >= 2  # some products sit in several warehouses


def test_a_year_of_history_with_a_weekly_rhythm_and_skewed_demand(seeded):
    now = timezone.now()
    for seller in Seller.objects.all():
        tz = ZoneInfo(seller.timezone)
        history = Order.objects.filter(seller=seller, lifecycle=Lifecycle.COMPLETED)
        placed = list(history.values_list("placed_at", flat=True))
        assert min(placed) < now - timedelta(days=355)
        assert max(placed) > now - timedelta(days=2)
        assert set(history.values_list("channel", flat=True)) == {"storefront", "pos", "manual", "amazon", "ebay"}

        per_day = Counter(moment.astimezone(tz).date() for moment in placed)
        first, last = min(per_day), max(per_day)
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        by_weekday = defaultdict(list)
        for day in days:
            by_weekday[day.weekday()].append(per_day[day])
        mean = {weekday: sum(values) / len(values) for weekday, values in by_weekday.items()}
        assert mean[0] > mean[5] and mean[6] > mean[5]  # Monday and Sunday above Saturday

        sold_on = defaultdict(set)
        for sku, moment in OrderLine.objects.filter(order__in=history).values_list("sku", "order__placed_at"):
            sold_on[sku].add(moment.astimezone(tz).date())
        share_of_days = sorted(len(dates) / len(days) for dates in sold_on.values())
        assert share_of_days[-1] > 0.4  # a best seller goes most days
        assert share_of_days[0] < 0.1  # the tail sells now and then


def test_every_ledger_adds_up_to_on_hand_and_reservations_match_allocations(seeded):
    ledger_sums = dict(StockLedgerEntry.objects.values_list("stock").annotate(total=Sum("quantity")).order_by())
    allocated = dict(Allocation.objects.values_list("stock").annotate(total=Sum("quantity")).order_by())
    for stock in Stock.objects.all():
        assert ledger_sums.get(stock.pk, 0) == stock.on_hand, stock
        assert allocated.get(stock.pk, 0) == stock.allocated, stock
    running: dict[int, int] = defaultdict(int)
    for stock_id, quantity, balance_after in StockLedgerEntry.objects.order_by("id").values_list(
        "stock_id", "quantity", "balance_after"
    ):
        running[stock_id] += quantity
        assert balance_after == running[stock_id]
    shipments = StockLedgerEntry.objects.filter(kind="shipment")
    assert shipments.exists() and not shipments.filter(quantity__gte=0).exists()
    assert not shipments.exclude(reference__startswith="order:").exists()
    assert Allocation.objects.exists()  # today's open orders went through order_place


def test_orders_add_up_and_are_numbered_without_gaps(seeded):
    line_totals = dict(OrderLine.objects.values_list("order").annotate(total=Sum("line_total")).order_by())
    for order in Order.objects.all():
        assert order.subtotal.amount == line_totals[order.pk]
        assert order.total == order_total(
            subtotal=order.subtotal,
            shipping=order.shipping_total,
            tax=order.tax_total,
            discount=order.discount_total,
            inclusive=order.seller.prices_include_tax,
        )
    for seller in Seller.objects.all():
        numbers = sorted(Order.objects.filter(seller=seller).values_list("number", flat=True))
        assert numbers == list(range(1, len(numbers) + 1))
        assert SellerSequence.objects.get(seller=seller, name="order").last_value == len(numbers)
    completed = Order.objects.filter(lifecycle=Lifecycle.COMPLETED)
    assert not OrderLine.objects.filter(order__in=completed).exclude(quantity_shipped=F("quantity")).exists()
    assert completed.count() == OrderEvent.objects.filter(order__in=completed, type=EventType.PLACED).count()
    assert set(OrderEvent.objects.values_list("actor_kind", "actor_label")) == {("system", "demo seed")}
    assert Order.objects.filter(lifecycle=Lifecycle.CANCELLED).exists()
    assert Order.objects.filter(lifecycle=Lifecycle.ON_HOLD, holds__resolved_at__isnull=True).count() == 2


def test_the_demo_shows_kits_backorders_preorders_pickup_and_can_ship(seeded):
    from core.actor import Actor
    from inventory.models import BackorderPolicy, ProductKind
    from shipping.models import CarrierAccount, Shipment
    from shipping.services.labels import shipment_label_buy
    from shipping.services.shipments import shipment_pack, shipment_pick_start, shipment_scan, shipments_sync

    staff = Actor.system("demo test")
    for seller in Seller.objects.all():
        products = Product.objects.filter(seller=seller)
        assert products.filter(kind=ProductKind.KIT, components__isnull=False).exists()
        assert products.filter(backorder_policy=BackorderPolicy.ALLOW).exists()
        assert products.filter(backorder_policy=BackorderPolicy.PREORDER, release_date__isnull=False).exists()
        assert Warehouse.objects.filter(seller=seller, is_pickup_location=True).exists()
        carrier = CarrierAccount.objects.get(seller=seller, code="post")
        assert any(seller.country in zone.countries for zone in carrier.zones.all())

        # An open order of the demo can be picked, packed and labelled at once.
        order = Order.objects.filter(seller=seller, lifecycle=Lifecycle.CONFIRMED).first()
        (shipment, *_) = shipments_sync(seller_id=seller.pk, order_id=order.pk, actor=staff)
        shipment_pick_start(seller_id=seller.pk, shipment_id=shipment.pk, actor=staff)
        for line in shipment.lines.all():
            shipment_scan(seller_id=seller.pk, shipment_id=shipment.pk, code=line.barcode, quantity=line.quantity)
        shipment_pack(seller_id=seller.pk, shipment_id=shipment.pk, actor=staff)
        shipment_label_buy(seller_id=seller.pk, shipment_id=shipment.pk, actor=staff, carrier_id=carrier.pk)
        assert Shipment.objects.get(pk=shipment.pk).tracking_number
