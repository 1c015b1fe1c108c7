"""Tax rates and exchange rates in the admin: scoped to the user's sellers, edited by
the roles allowed to, through the services."""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse
from djmoney.contrib.exchange.models import Rate

from orders.finance.models import ExchangeRate, TaxRate
from sellers.models import StaffRole
from tests.factories import MembershipFactory, SellerFactory
from tests.finance.helpers import rate

pytestmark = pytest.mark.django_db

TAX_RATES = reverse("admin:finance_taxrate_changelist")
TAX_RATE_ADD = reverse("admin:finance_taxrate_add")
EXCHANGE_RATES = reverse("admin:finance_exchangerate_changelist")
EXCHANGE_RATE_ADD = reverse("admin:finance_exchangerate_add")


def login(client, seller, role=StaffRole.MANAGER):
    client.force_login(MembershipFactory(seller=seller, role=role).user)


def tax_rate_form(seller, **overrides):
    return {
        "seller": seller.pk,
        "country": "DE",
        "region": "",
        "tax_class": "standard",
        "rate": "0.19",
        "name": "MwSt 19 %",
        "valid_from": "",
        "valid_until": "",
    } | overrides


def test_a_manager_sees_and_adds_tax_rates_of_their_seller_only(client):
    mine, theirs = SellerFactory(name="Mine"), SellerFactory(name="Theirs")
    rate(mine, "SE", "0.25", name="Moms 25 %")
    rate(theirs, "FR", "0.20", name="TVA 20 %")
    login(client, mine)

    listing = client.get(TAX_RATES).content.decode()
    created = client.post(TAX_RATE_ADD, tax_rate_form(mine))
    refused = client.post(TAX_RATE_ADD, tax_rate_form(theirs, country="IT", name="IVA"))

    assert "Moms 25 %" in listing and "TVA 20 %" not in listing
    assert created.status_code == 302
    assert TaxRate.objects.get(seller=mine, country="DE").rate == Decimal("0.19")
    assert refused.status_code == 200 and "seller" in refused.context["adminform"].form.errors
    assert not TaxRate.objects.filter(country="IT").exists()


def test_overlapping_periods_for_one_rate_are_refused(client):
    seller = SellerFactory()
    rate(seller, "DE", "0.16", valid_from=date(2020, 7, 1), valid_until=date(2020, 12, 31))
    login(client, seller)

    overlapping = client.post(TAX_RATE_ADD, tax_rate_form(seller, valid_from="2020-12-01"))
    after = client.post(TAX_RATE_ADD, tax_rate_form(seller, valid_from="2021-01-01"))

    assert overlapping.status_code == 200
    assert "applies in part of this period" in overlapping.content.decode()
    assert after.status_code == 302
    assert TaxRate.objects.filter(seller=seller).count() == 2


def test_a_viewer_cannot_change_tax_rates(client):
    seller = SellerFactory()
    existing = rate(seller, "DE", "0.19")
    login(client, seller, role=StaffRole.VIEWER)

    response = client.post(
        reverse("admin:finance_taxrate_change", args=[existing.pk]), tax_rate_form(seller, rate="0.5")
    )

    assert response.status_code == 403
    assert client.post(TAX_RATE_ADD, tax_rate_form(seller)).status_code == 403
    existing.refresh_from_db()
    assert existing.rate == Decimal("0.19")


def test_staff_read_exchange_rates_and_only_superusers_change_them(client, admin_client):
    login(client, SellerFactory())
    form = {"date": "2025-01-02", "base_currency": "eur", "quote_currency": "usd", "rate": "1.1", "source": "ECB"}

    assert client.get(EXCHANGE_RATES).status_code == 200
    assert client.post(EXCHANGE_RATE_ADD, form).status_code == 403
    assert admin_client.post(EXCHANGE_RATE_ADD, form).status_code == 302

    stored = ExchangeRate.objects.get()
    assert (stored.base_currency, stored.quote_currency, stored.rate) == ("EUR", "USD", Decimal("1.1"))
    assert Rate.objects.get(backend__name="waybill:2025-01-02:EUR").value == Decimal("1.1")

    moved = form | {"date": "2025-01-03", "base_currency": "EUR", "quote_currency": "USD", "rate": "1.2"}
    admin_client.post(reverse("admin:finance_exchangerate_change", args=[stored.pk]), moved)
    assert list(Rate.objects.values_list("backend__name", "value")) == [("waybill:2025-01-03:EUR", Decimal("1.2"))]

    admin_client.post(reverse("admin:finance_exchangerate_delete", args=[stored.pk]), {"post": "yes"})
    assert not ExchangeRate.objects.exists() and not Rate.objects.exists()


def test_django_moneys_own_rate_admin_is_not_offered():
    assert not admin.site.is_registered(Rate)
