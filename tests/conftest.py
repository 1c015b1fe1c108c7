"""Suite-wide fixtures and the rules about services.

Tests marked ``postgres`` need PostgreSQL (row locks, concurrency). On SQLite they are
skipped and the run says so loudly at the end; with WAYBILL_REQUIRE_SERVICES=1 (CI)
the session refuses to start without PostgreSQL and Redis instead.
"""

import os
import threading
import uuid

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connections
from rest_framework.test import APIClient

from core.cache import config_caches_clear
from sellers.services import api_key_create
from tests.factories import SellerFactory

ON_POSTGRES = connections["default"].vendor == "postgresql"
BROKER = settings.CELERY_BROKER_URL
# Redis for cache tests: the broker's server (CI's), another database number.
REDIS = BROKER.rsplit("/", 1)[0] + "/14" if BROKER.startswith("redis://") else "redis://127.0.0.1:6379/14"
REQUIRED = os.environ.get("WAYBILL_REQUIRE_SERVICES") == "1"
_skipped_for_postgres: list[str] = []


def pytest_configure(config):
    if REQUIRED and not ON_POSTGRES:
        pytest.exit("WAYBILL_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL", returncode=3)
    if REQUIRED and not BROKER.startswith(("redis://", "amqp://")):
        pytest.exit("WAYBILL_REQUIRE_SERVICES=1 but CELERY_BROKER_URL is not Redis or RabbitMQ", returncode=3)


def pytest_report_header(config):
    database = "PostgreSQL" if ON_POSTGRES else "SQLite (PostgreSQL-only tests will be SKIPPED)"
    return [f"waybill: database={database} broker={BROKER.split('://')[0]}"]


def pytest_collection_modifyitems(config, items):
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL or start a local PostgreSQL")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
            _skipped_for_postgres.append(item.nodeid)


def pytest_terminal_summary(terminalreporter):
    if _skipped_for_postgres:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            f"  {len(_skipped_for_postgres)} tests SKIPPED: no PostgreSQL. Concurrency and locking were NOT tested.",
            red=True,
            bold=True,
        )
        terminalreporter.write_line("  Set DATABASE_URL=postgres://... or start PostgreSQL on 127.0.0.1:5432.")
        terminalreporter.write_line(bar, red=True, bold=True)


@pytest.fixture(autouse=True)
def _config_caches_cleared():
    """Each test starts with no cached API keys, policies or tax rates (core.cache): a
    rolled-back test's rows must not answer for the next one's."""
    config_caches_clear()
    yield
    config_caches_clear()


@pytest.fixture
def seller(db):
    return SellerFactory()


@pytest.fixture
def other_seller(db):
    return SellerFactory()


def run_at_once(count: int, target) -> tuple[list, list]:
    """``target(index)`` in ``count`` threads released together (each on its own database
    connection); their results by index, and the errors raised, as reprs."""
    start = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def work(index):
        try:
            start.wait()
            results[index] = target(index)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the tests
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def assert_error_shape(response, status, code):
    """The API's one error shape, with this status and code; returns the body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def client_for(seller, scopes=None) -> APIClient:
    issued = api_key_create(seller=seller, name="test", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw_key}")
    client.api_key = issued.api_key
    return client


@pytest.fixture
def api(seller):
    return client_for(seller)


@pytest.fixture
def redis_cache(settings):
    """Production's kind of cache (``core.cache_backends.RedisCache``) on the suite's
    Redis, under a key prefix of the test's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache_backends.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        }
    }
    cache = caches["default"]
    yield cache
    cache.clear()
