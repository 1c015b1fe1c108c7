"""Per-process caches of configuration that every order reads: a seller's API key, its
order policy and risk rules, its tax rates. They change a few times a year and are read
hundreds of times a second on a sale day, when a query each would cost more than the
rest of the order's reads together.

A change made through the models (the admin, the services) clears the process's own
cache at once, by a signal; other processes see it once their entry expires, after
``WAYBILL_CONFIG_CACHE_SECONDS`` (5 s by default; 0 turns caching off). The entries
are ``cachetools.TTLCache``s, bounded in size.
"""

from collections.abc import Callable, Hashable
from threading import Lock
from typing import TypeVar

from cachetools import TTLCache
from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

from core.fastsql import attnames

_caches: list["ConfigCache"] = []
Model = TypeVar("Model", bound=models.Model)
MISSING = object()


class ConfigCache:
    """A named TTL cache. Thread-safe (the development server runs a thread per
    request); entries are immutable snapshots, never model instances that a caller
    could change or that would carry stale related objects along."""

    def __init__(self, name: str, *, maxsize: int = 4096):
        self.name = name
        self._maxsize = maxsize
        self._lock = Lock()
        self._entries: TTLCache | None = None
        self._ttl: float | None = None
        _caches.append(self)

    def _store(self) -> TTLCache | None:
        ttl = settings.WAYBILL_CONFIG_CACHE_SECONDS
        if ttl <= 0:
            return None
        if self._entries is None or ttl != self._ttl:
            self._entries, self._ttl = TTLCache(maxsize=self._maxsize, ttl=ttl), ttl
        return self._entries

    def get(self, key: Hashable):
        with self._lock:
            store = self._store()
            return MISSING if store is None else store.get(key, MISSING)

    def set(self, key: Hashable, value) -> None:
        with self._lock:
            store = self._store()
            if store is not None:
                store[key] = value

    def get_or_read(self, key: Hashable, read: Callable[[], object]):
        """The cached value, or ``read()``'s, which is then kept."""
        value = self.get(key)
        if value is MISSING:
            value = read()
            self.set(key, value)
        return value

    def clear_on_change(self, *senders: type[models.Model]) -> None:
        """Clear the cache whenever one of these models is saved or deleted (for an
        app's ``ready()``)."""
        for sender in senders:
            label = f"{self.name}:{sender._meta.label}"
            post_save.connect(self.clear, sender=sender, dispatch_uid=f"config-cache-save:{label}")
            post_delete.connect(self.clear, sender=sender, dispatch_uid=f"config-cache-delete:{label}")

    def clear(self, *_args, **_kwargs) -> None:
        """Also a signal receiver: ``post_save.connect(cache.clear, sender=...)``.

        Inside a transaction the cache is cleared again once it commits: another
        thread of this process may read the old row in between and cache it."""
        self._clear_now()
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(self._clear_now)

    def _clear_now(self) -> None:
        with self._lock:
            if self._entries is not None:
                self._entries.clear()


def config_caches_clear() -> None:
    for cache in _caches:
        cache.clear()


def snapshot(instance: models.Model) -> tuple:
    """The instance's column values, to rebuild a fresh copy with ``restore``."""
    return tuple(getattr(instance, name) for name in attnames(type(instance)))


def restore(model: type[Model], values: tuple) -> Model:
    """A new instance from a ``snapshot``, as if just read from the database."""
    return model.from_db("default", attnames(model), values)
