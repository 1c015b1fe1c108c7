import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from sellers.authentication import ApiClient

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60
# Far from its limit, a key's requests are counted on Redis in batches of up to this
# many per process (see ``_Counted``).
MOST_PER_BATCH = 16


class ApiKeyRateThrottle(BaseThrottle):
    """At most WAYBILL_API_RATE_PER_MINUTE requests per API key per minute window.

    Written on DRF's throttle hook rather than with SimpleRateThrottle because that one
    keeps a list of every request time per client in the cache and rewrites it on each
    request, which grows with the rate; a per-window counter is one atomic ``incr``.
    The cache must be shared by all web processes (Redis in production) for the limit
    to hold across them. On Redis, a key far from its limit is counted in batches
    (``_Counted``), so most requests make no round trip for the throttle.
    """

    def allow_request(self, request, view):
        if not isinstance(request.user, ApiClient):
            return True
        limit = settings.WAYBILL_API_RATE_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        key = f"throttle:apikey:{request.auth.pk}:{window}"
        backend = caches["default"]
        redis = isinstance(backend, RedisCache)
        count = _counted(key, window).count(backend, limit) if redis else _cache_count(backend, key)
        self._retry_after = (window + 1) * WINDOW_SECONDS - now
        return count <= limit

    def wait(self):
        return self._retry_after


@dataclass
class _Counted:
    """This process's view of one key's counter in one window.

    A round trip to Redis per request costs the web process about a tenth of an order
    placement's CPU under load. So while the window's count is under half the limit,
    the requests a process serves are sent to Redis together, up to
    ``MOST_PER_BATCH`` at a time and never more than a thousandth of the limit; past
    half of it, each one is sent, and refused or not on the count Redis returns. What
    a process knows of the count may be late by what others sent since, so a process
    that last heard of a count under half the limit may let through up to a batch
    beyond it: at most a thousandth of the limit (and at most ``MOST_PER_BATCH``) per
    process. While a batch is on its way to Redis, the process's other threads count
    request by request, so threads do not stack batches on one late count. Limits under
    a thousand a minute are counted exactly, request by request. What processes still
    hold when the window closes is forgotten with it."""

    key: str
    known: int = 0  # the window's count on Redis when this process last sent
    held: int = 0  # requests served here and not sent yet
    sending: int = 0  # sends on their way to Redis

    def count(self, cache: RedisCache, limit: int) -> int:
        with _lock:
            self.held += 1
            far = (self.known + self.held) * 2 < limit and not self.sending
            batch = min(MOST_PER_BATCH, limit // 1000) if far else 1
            if self.held < batch:
                return self.known + self.held
            held, self.held = self.held, 0
            self.sending += 1
        try:
            known = _redis_add(cache, self.key, held)
        except RedisError:
            # Redis down: the request is let through rather than failed (a 500), as
            # the outbox goes on without its flag; the units are sent with the next.
            logger.warning("Cache unavailable; API key %s not throttled", self.key, exc_info=True)
            with _lock:
                self.held += held
                self.sending -= 1
                return self.known + self.held
        with _lock:
            self.sending -= 1
            self.known = max(self.known, known)
        return known


_lock = threading.Lock()  # the development server serves requests in threads
_counters: dict[str, _Counted] = {}
_window = [0]


def _counted(key: str, window: int) -> _Counted:
    """The key's counter in this window; the last window's are forgotten."""
    counter = _counters.get(key)
    if counter is None:
        with _lock:
            if _window[0] != window:
                _counters.clear()
                _window[0] = window
            counter = _counters.setdefault(key, _Counted(key))
    return counter


def _redis_add(cache: RedisCache, key: str, units: int) -> int:
    """One round trip on Redis: SET NX with the expiry (starts the window's counter)
    and INCRBY, pipelined; returns the count. Django's ``cache.add`` then
    ``cache.incr`` would be three (its incr asks EXISTS first). No MULTI is needed: the
    key expires two windows after it is set and is counted only during the first, so
    INCRBY never meets it expired. Uses the client of Django's own Redis backend
    (``_cache``, not public API); the stored value is a plain integer, as that backend
    stores ints."""
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    with client.pipeline(transaction=False) as pipe:
        pipe.set(full_key, 0, ex=WINDOW_SECONDS * 2, nx=True)
        pipe.incrby(full_key, units)
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
