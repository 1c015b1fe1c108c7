import pytest
from django.core.cache import cache

from tests.conftest import client_for


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_a_key_over_its_rate_gets_429_with_retry_after(seller, settings):
    settings.WAYBILL_API_RATE_PER_MINUTE = 3
    api, other = client_for(seller), client_for(seller)

    statuses = [api.get("/api/v1/products/").status_code for _ in range(4)]
    limited = api.get("/api/v1/products/")

    assert statuses == [200, 200, 200, 429]
    body = limited.json()
    assert body["code"] == "throttled"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert body["details"]["retry_after_seconds"] == int(limited["Retry-After"])
    assert other.get("/api/v1/products/").status_code == 200, "the limit is per key"
