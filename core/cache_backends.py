"""Cache backends."""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class _ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client builds a new ``redis.Redis`` for every operation,
    and redis-py's constructor (its table of response callbacks) costs about as much CPU
    as the round trip itself; an API request makes one or two. One client per pool is
    enough: a ``redis.Redis`` takes a pooled connection per command and is thread-safe,
    and the pool starts afresh in a forked process."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            # The pool of this very index (Django's _get_connection_pool draws its own
            # random one for reads).
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache backend with one client per pool (see above); settings pick
    it for any ``redis://`` CACHE_URL."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClientRedisCacheClient
