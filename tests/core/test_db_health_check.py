"""The PostgreSQL backend's health check: no round trip for a healthy connection used
moments ago, a round trip for one idle longer, and a connection the server closed is
still found out and replaced."""

import select
import time

import psycopg
import pytest
from django.db import connection

from core.backends.postgresql import base as backend

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _other_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params, autocommit=True)


def _last_query(pid: int) -> str:
    with _other_connection() as other:
        return other.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0]


def test_an_idle_healthy_connection_passes_without_a_query():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'health check marker'")
    pid = connection.connection.info.backend_pid

    assert connection.is_usable()

    # The server's record of the session's last statement is still the marker.
    assert _last_query(pid) == "SELECT 'health check marker'"


def test_a_connection_idle_for_longer_is_asked(monkeypatch):
    """A NAT or a firewall may have dropped it without a word: only a round trip tells."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'health check marker'")
    pid = connection.connection.info.backend_pid
    monkeypatch.setattr(backend, "TRUSTED_IDLE_SECONDS", 0.0)

    assert connection.is_usable()

    assert _last_query(pid) == "SELECT 1"


def test_a_connection_the_server_closed_fails_and_is_replaced():
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with _other_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    deadline = time.monotonic() + 5
    while not select.select([connection.connection.fileno()], [], [], 0.05)[0]:
        assert time.monotonic() < deadline, "the server's close never reached the socket"

    assert not connection.is_usable()

    connection.health_check_done = False
    connection.close_if_health_check_failed()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_inside_a_transaction_is_asked():
    """Not idle: the zero-timeout look at the socket does not apply, Django's query does."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        assert connection.is_usable()
        assert _last_query(pid) == "SELECT 1"
        cursor.execute("ROLLBACK")
