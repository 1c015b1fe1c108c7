import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from sellers.authentication import ApiClient

WINDOW_SECONDS = 60


class ApiKeyRateThrottle(BaseThrottle):
    """At most WAYBILL_API_RATE_PER_MINUTE requests per API key per minute window.

    Written on DRF's throttle hook rather than with SimpleRateThrottle because that one
    keeps a list of every request time per client in the cache and rewrites it on each
    request, which grows with the rate; a per-window counter is one atomic ``incr``.
    The cache must be shared by all web processes (Redis in production) for the limit
    to hold across them.
    """

    def allow_request(self, request, view):
        if not isinstance(request.user, ApiClient):
            return True
        limit = settings.WAYBILL_API_RATE_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"throttle:apikey:{request.auth.pk}:{window}"
        backend = caches["default"]
        count = _redis_count(backend, key) if isinstance(backend, RedisCache) else _cache_count(backend, key)
        self._retry_after = (window + 1) * WINDOW_SECONDS - now
        return count <= limit

    def wait(self):
        return self._retry_after


def _redis_count(cache: RedisCache, key: str) -> int:
    """One round trip on Redis: a MULTI of SET NX with the expiry (starts the window's
    counter) and INCR. Django's ``cache.add`` then ``cache.incr`` would be three (its
    incr asks EXISTS first). Uses the client of Django's own Redis backend (``_cache``,
    not public API); the stored value is a plain integer, as that backend stores ints."""
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(full_key, 0, ex=WINDOW_SECONDS * 2, nx=True)
        pipe.incr(full_key)
        _, count = pipe.execute()
    return count


def _cache_count(cache: BaseCache, key: str) -> int:
    """Any other cache backend: add the window's key, then increment it."""
    try:
        return cache.incr(key)
    except ValueError:  # the window's first request (or the key was evicted)
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)  # a racing process may have added it: fine
        try:
            return cache.incr(key)
        except ValueError:  # evicted between add and incr: start the window again
            cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
            return 1
