"""The per-process configuration caches (core.cache): an order reads the seller's key,
checks and tax rates from memory, a change through the models is seen by the next
request at once, and one made elsewhere (another process: here a queryset update,
which sends no signal) once the entry expires."""

import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.finance.models import TaxRate
from orders.finance.selectors import tax_rates_at
from orders.models import OrderPolicy
from sellers.authentication import ApiKeyAuthentication
from sellers.models import ApiKey, Seller
from sellers.services import api_key_revoke
from tests.factories import ProductFactory, WarehouseFactory, order_body, stocked


@pytest.fixture
def shop(seller):
    warehouse = WarehouseFactory(seller=seller)
    stocked(ProductFactory(seller=seller, sku="MUG"), warehouse, 100)
    return seller


def tables_read(captured) -> set[str]:
    return {query["sql"].split(" FROM ")[1].split()[0].strip('"') for query in captured if " FROM " in query["sql"]}


def place(api, *skus):
    return api.post("/api/v1/orders/", order_body([(sku, 1) for sku in skus or ("MUG",)]), format="json")


def test_a_warm_order_reads_neither_the_key_nor_the_checks_nor_the_tax_rates(api, shop):
    assert place(api).status_code == 201
    with CaptureQueriesContext(connection) as captured:
        assert place(api).status_code == 201
    read = tables_read(captured.captured_queries)
    assert "sellers_apikey" not in read
    assert "sellers_seller" not in read  # the checks' query starts at the seller row
    assert "finance_taxrate" not in read


def test_a_revoked_key_is_refused_by_the_next_request(api, shop):
    assert place(api).status_code == 201
    api_key_revoke(api_key=api.api_key)
    response = place(api)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_deactivated_seller_is_refused_by_the_next_request(api, shop):
    assert place(api).status_code == 201
    shop.is_active = False
    shop.save()
    assert place(api).status_code == 401


def test_a_policy_saved_applies_to_the_next_order(api, shop):
    assert place(api).status_code == 201
    OrderPolicy.objects.create(seller=shop, blocked_countries=["US"])
    response = place(api)
    assert response.status_code == 400
    assert "shipping_address.country" in response.json()["details"]


@override_settings(WAYBILL_CONFIG_CACHE_SECONDS=0.2)
def test_a_change_no_signal_announces_is_seen_once_the_entry_expires(api, shop):
    assert place(api).status_code == 201
    ApiKey.objects.filter(pk=api.api_key.pk).update(revoked_at=timezone.now())  # as another process would
    assert place(api).status_code == 201  # still cached here
    time.sleep(0.3)
    assert place(api).status_code == 401


@override_settings(WAYBILL_CONFIG_CACHE_SECONDS=0)
def test_zero_seconds_reads_every_time(api, shop):
    assert place(api).status_code == 201
    with CaptureQueriesContext(connection) as captured:
        assert place(api).status_code == 201
    assert "sellers_apikey" in tables_read(captured.captured_queries)


def test_tax_rates_come_back_as_fresh_instances_and_follow_a_saved_change(seller):
    rate = TaxRate.objects.create(seller=seller, country="US", region="", tax_class="standard", rate=Decimal("0.05"))
    first = tax_rates_at(seller_id=seller.pk, country="US", on=date(2026, 11, 22))
    first[0].rate = Decimal("0.99")  # a caller's change to its copy stays with it
    with CaptureQueriesContext(connection) as captured:
        again = tax_rates_at(seller_id=seller.pk, country="US", on=date(2026, 11, 22))
    assert len(captured) == 0
    assert again[0].rate == Decimal("0.05") and again[0] is not first[0]
    rate.rate = Decimal("0.07")
    rate.save()
    assert tax_rates_at(seller_id=seller.pk, country="US", on=date(2026, 11, 22))[0].rate == Decimal("0.07")


def test_a_cached_seller_is_a_fresh_instance_per_request(api, shop):
    assert place(api).status_code == 201
    Seller.objects.filter(pk=shop.pk).update(name="Renamed elsewhere")  # no signal, as elsewhere

    class Request:
        headers = {"authorization": api._credentials["HTTP_AUTHORIZATION"]}

    one = ApiKeyAuthentication().authenticate(Request())[1]
    two = ApiKeyAuthentication().authenticate(Request())[1]
    assert one is not two and one.seller is not two.seller
    # Both come from the cached snapshot (the entry is still alive), not from the row.
    assert one.seller.pk == shop.pk and one.seller.name == two.seller.name == shop.name
