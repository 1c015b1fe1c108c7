"""The demo sellers tax their orders: Northwind adds US sales tax on top, Lindqvist's
prices include the VAT of the customer's country; open orders carry it per line, the
history at order level; every order adds up under its seller's pricing."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from core.money import round_money, zero
from orders.finance.models import ExchangeRate, TaxRate
from orders.finance.reports import sales_report
from orders.finance.tax.base import TAX_METADATA_KEY
from orders.finance.tax.calculation import order_total
from orders.models import Order
from sellers.models import Seller

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", "--orders-per-day", "1", "--days", "30", "--open-orders", "30", stdout=StringIO())
        yield {seller.slug: seller for seller in Seller.objects.all()}
        transaction.set_rollback(True)


def test_the_demo_sellers_have_tax_rates_and_the_sample_exchange_rates_are_loaded(seeded):
    northwind, lindqvist = seeded["northwind"], seeded["lindqvist"]
    assert (northwind.prices_include_tax, lindqvist.prices_include_tax) == (False, True)
    assert TaxRate.objects.get(seller=northwind, country="US", region="NY").rate == Decimal("0.08875")
    assert not TaxRate.objects.filter(seller=northwind, region="OR").exists()
    assert TaxRate.objects.get(seller=lindqvist, country="DE").rate == Decimal("0.19")
    assert not TaxRate.objects.filter(seller=lindqvist, country__in=["NO", "CH"]).exists()
    assert ExchangeRate.objects.count() == 22


def test_every_demo_order_adds_up_under_its_sellers_pricing(seeded):
    for order in Order.objects.select_related("seller"):
        expected = order_total(
            subtotal=order.subtotal,
            shipping=order.shipping_total,
            tax=order.tax_total,
            discount=order.discount_total,
            inclusive=order.seller.prices_include_tax,
        )
        assert order.total == expected, order


def test_open_orders_carry_the_tax_per_line_and_the_history_at_order_level(seeded):
    open_orders = Order.objects.filter(metadata__has_key=TAX_METADATA_KEY).prefetch_related("lines")
    assert open_orders.count() >= 20  # every open order of a channel Waybill taxes
    taxed = 0
    for order in open_orders:
        lines_tax = sum((line.tax_amount for line in order.lines.all()), zero(str(order.currency)))
        shipping_tax = Decimal(order.metadata[TAX_METADATA_KEY]["shipping"]["tax"])
        assert round_money(order.tax_total).amount == round_money(lines_tax).amount + shipping_tax
        taxed += order.tax_total.amount > 0
    assert taxed >= 10
    history = Order.objects.filter(placed_at__lt=timezone.now() - timezone.timedelta(days=2))
    assert history.filter(seller=seeded["lindqvist"], tax_total__gt=0).exists()  # the VAT inside the prices
    assert not history.filter(lines__tax_amount__gt=0).exists()


def test_the_sales_report_converts_every_currency_the_demo_sells_in(seeded):
    today = timezone.localdate()
    for seller in seeded.values():
        report = sales_report(seller=seller, date_from=today.replace(day=1), date_to=today)

        assert report.complete, report.not_convertible
        assert report.orders > 0
        assert report.gross.currency.code == seller.base_currency
