"""core.cache_backends.RedisCache: Django's Redis cache with one client per pool."""

from django.core.cache import caches

from core.cache_backends import RedisCache
from tests.conftest import REDIS


def test_it_is_djangos_redis_cache_with_one_client(redis_cache):
    assert isinstance(redis_cache, RedisCache)
    client = redis_cache._cache.get_client(write=True)
    assert redis_cache._cache.get_client(write=True) is client
    assert redis_cache._cache.get_client() is client, "one server: reads use the write pool"


def test_operations_behave_as_djangos(redis_cache):
    assert redis_cache.add("a", {"x": 1}, timeout=30)
    assert not redis_cache.add("a", 2, timeout=30)
    assert redis_cache.get("a") == {"x": 1}
    redis_cache.set("n", 1, timeout=30)
    assert redis_cache.incr("n") == 2
    redis_cache.delete("a")
    assert redis_cache.get("a") is None


def test_each_server_has_its_own_client_on_its_own_pool(settings):
    base = REDIS.rsplit("/", 1)[0]
    settings.CACHES = {
        "default": {"BACKEND": "core.cache_backends.RedisCache", "LOCATION": [f"{base}/14", f"{base}/15", f"{base}/13"]}
    }
    client = caches["default"]._cache
    for _ in range(50):  # reads go to a random replica
        client.get_client()
    client.get_client(write=True)
    assert set(client._clients) == {0, 1, 2}
    for index, redis_client in client._clients.items():
        assert redis_client.connection_pool is client._pools[index]
