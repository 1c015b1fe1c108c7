import pytest
from django.core.cache import cache

from tests.conftest import REDIS, client_for


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


@pytest.mark.django_db
def test_the_limit_holds_on_redis_with_one_round_trip_per_request(seller, settings):
    """Production's cache: INCR creates the window's counter and the first request
    sets its expiry."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS}}
    settings.WAYBILL_API_RATE_PER_MINUTE = 2
    from django.core.cache import caches

    api = client_for(seller)
    client = caches["default"]._cache.get_client(write=True)
    pattern = f"*throttle:apikey:{api.api_key.pk}:*"
    try:
        assert [api.get("/api/v1/products/").status_code for _ in range(3)] == [200, 200, 429]
        keys = client.keys(pattern)
        assert len(keys) == 1
        assert int(client.get(keys[0])) == 3
        assert 0 < client.ttl(keys[0]) <= 120
    finally:
        for key in client.keys(pattern):  # only this test's counter: the database may be shared
            client.delete(key)
