"""``Authorization: Bearer <key>`` for storefronts. The authenticated principal is the
seller's API client; views read the seller from ``request.auth.seller``."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions

from core.cache import MISSING, restore, snapshot
from core.fastsql import attnames, columns, instances_from_rows
from sellers.caches import api_keys_cache
from sellers.models import ApiKey, Seller
from sellers.services import API_KEY_PREFIX, api_key_digest


@dataclass(frozen=True)
class ApiClient:
    """What ``request.user`` is for an API-key request."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False

    @property
    def seller(self):
        return self.api_key.seller

    def __str__(self):
        return f"api key {self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw_key = header.partition(" ")
        if keyword.lower() != self.keyword.lower():
            return None
        raw_key = raw_key.strip()
        if not raw_key.startswith(API_KEY_PREFIX):
            raise exceptions.AuthenticationFailed("Malformed API key.")
        digest = api_key_digest(raw_key)
        api_key = self._live_key(digest)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if self._touch(api_key):
            api_keys_cache.set(digest, (snapshot(api_key), snapshot(api_key.seller)))
        return ApiClient(api_key=api_key), api_key

    @staticmethod
    def _live_key(digest: str) -> ApiKey | None:
        """The key with its seller, each request its own instances (from the process's
        cache when it is fresh: see core.cache). Unknown keys are not cached."""
        cached = api_keys_cache.get(digest)
        if cached is not MISSING:
            api_key = restore(ApiKey, cached[0])
            api_key.seller = restore(Seller, cached[1])
            return api_key
        api_key = _live_key_read(digest)
        if api_key is not None:
            api_keys_cache.set(digest, (snapshot(api_key), snapshot(api_key.seller)))
        return api_key

    def authenticate_header(self, request):
        return self.keyword

    @staticmethod
    def _touch(api_key: ApiKey) -> bool:
        """Writing last-used on every request would make every read a write; once a
        minute is precise enough to tell a live key from a dead one. True if written."""
        now = timezone.now()
        threshold = now - timedelta(seconds=settings.WAYBILL_API_KEY_TOUCH_SECONDS)
        if api_key.last_used_at is None or api_key.last_used_at < threshold:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
            return True
        return False


_LIVE_KEY_SQL = (
    f'SELECT {columns(ApiKey, "k")}, {columns(Seller, "s")} FROM "{ApiKey._meta.db_table}" "k" '
    f'JOIN "{Seller._meta.db_table}" "s" ON "s"."id" = "k"."seller_id" '
    'WHERE "k"."digest" = %s AND "k"."revoked_at" IS NULL AND "s"."is_active"'
)


def _live_key_read(digest: str) -> ApiKey | None:
    """The live key with its seller in one statement. Every process reads each key once
    per cache period (a seller's tills and storefronts each have their own), and the
    ORM's compiling of ``select_related(...).filter(...)`` cost four times the query."""
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_KEY_SQL, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(attnames(ApiKey))
    (api_key,) = instances_from_rows(ApiKey, [row[:split]])
    (api_key.seller,) = instances_from_rows(Seller, [row[split:]])
    return api_key


class IsSellerApiClient(permissions.BasePermission):
    """Authenticated with an API key that carries the scope the view asks for
    (``required_scopes`` per HTTP method; read methods default to the read scope)."""

    message = "This API key lacks the scope this operation needs."

    def has_permission(self, request, view):
        if not isinstance(request.user, ApiClient):
            raise exceptions.NotAuthenticated("Send a seller API key: Authorization: Bearer <key>.")
        required = getattr(view, "required_scopes", {}).get(request.method, ())
        return all(scope in request.auth.scopes for scope in required)
