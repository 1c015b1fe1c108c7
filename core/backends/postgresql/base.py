"""Django's PostgreSQL backend with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every
request on a persistent connection: on the order-capture path that is a thirteenth
round trip per order. A server that closes a connection (a restart,
``pg_terminate_backend``, ``idle_session_timeout``, a pooler going away) sends its
error or end-of-stream, so the socket of a connection left idle becomes readable. The
check here asks the kernel whether it is, without waiting (``select`` with a zero
timeout); only when something has arrived does it ask the server with Django's
``SELECT 1``. An idle, healthy connection has nothing to read, and costs one system
call.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status != TransactionStatus.IDLE:
            return super().is_usable()
        try:
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable or super().is_usable()
