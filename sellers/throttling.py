import time

from django.conf import settings
from django.core.cache import cache
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
        try:
            count = cache.incr(key)
        except ValueError:  # the window's first request (or the key was evicted)
            cache.add(key, 0, timeout=WINDOW_SECONDS * 2)  # a racing process may have added it: fine
            try:
                count = cache.incr(key)
            except ValueError:  # evicted between add and incr: start the window again
                cache.set(key, 1, timeout=WINDOW_SECONDS * 2)
                count = 1
        self._retry_after = (window + 1) * WINDOW_SECONDS - now
        return count <= limit

    def wait(self):
        return self._retry_after
