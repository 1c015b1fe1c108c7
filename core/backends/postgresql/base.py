"""Django's PostgreSQL backend with a health check that costs no round trip while a
connection is busy.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every
request on a persistent connection: on the order-capture path that is a thirteenth
round trip per order. A server that closes a connection (a restart,
``pg_terminate_backend``, ``idle_session_timeout``, a pooler going away) sends its
error or end-of-stream, so the socket of a connection left idle becomes readable. So a
connection that finished its last request moments ago is checked by asking the kernel
whether its socket has anything to read, without waiting; only if it has does Django's
``SELECT 1`` run. A connection idle for longer gets ``SELECT 1`` as before: a NAT or a
firewall that forgets an idle connection says nothing until the next packet, and only a
round trip finds that out (they do so after minutes of silence, not seconds).
"""

import select
import time
from functools import lru_cache

from django.db.backends.postgresql import base
from psycopg import _queries
from psycopg.pq import TransactionStatus

# psycopg turns a statement's %s placeholders into PostgreSQL's $n by parsing its text,
# and remembers the result for 128 statements, but only for those under 4 kB with at
# most 50 parameters (psycopg discussion #628: ORMs send endless variants of long
# multi-row INSERTs). core.fastsql's statements are few and long: an order placement
# writes six tables in two statements of a few kB and a hundred parameters or more,
# whose variants are bounded by the row counts. Parsed anew each time, they cost a
# tenth of an order's CPU. So the limits are raised to what an order of a dozen lines
# sends, and the cache sized for the variants (at most about 10 MB a process); psycopg
# reads both module globals on every call. (Private to psycopg, which is pinned:
# tests/core/test_fastsql.py checks that the cache still serves.)
if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH") and hasattr(_queries, "_query2pg_nocache"):
    _queries.MAX_CACHED_STATEMENT_LENGTH = 16 * 1024
    _queries.MAX_CACHED_STATEMENT_PARAMS = 400
    _queries._query2pg = lru_cache(maxsize=256)(_queries._query2pg_nocache)

# Idle for less than this, a connection whose socket has nothing to read is taken as
# healthy without a round trip.
TRUSTED_IDLE_SECONDS = 10.0


class DatabaseWrapper(base.DatabaseWrapper):
    _last_used: float | None = None

    def create_cursor(self, name=None):
        # Every query goes through a new cursor, so this is when the connection last
        # did something (the health check runs before the request's first one).
        self._last_used = time.monotonic()
        return super().create_cursor(name)

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        recently_used = self._last_used is not None and time.monotonic() - self._last_used < TRUSTED_IDLE_SECONDS
        if not recently_used or connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            # poll, not select: select refuses descriptors from 1024 up.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            readable = bool(poller.poll(0))
        except (OSError, ValueError):
            return super().is_usable()
        return not readable or super().is_usable()
