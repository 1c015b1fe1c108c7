"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis),
in-process through the WSGI app: no 5xx, and every response conforms to the schema
(status code documented, body matching its schema, declared content type)."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks

from config.wsgi import application
from tests.conftest import client_for
from tests.factories import ProductFactory, WarehouseFactory, place, stocked

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]


@pytest.fixture(autouse=True)
def keep_the_test_connection_open():
    """Calling the WSGI app directly fires request_finished, whose handler closes the
    database connection the test transaction lives on; Django's test client
    disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def authorization(seller):
    warehouse = WarehouseFactory(seller=seller, code="FUZZ")
    for sku in ("MUG", "CUP", "PLATE"):
        stocked(ProductFactory(seller=seller, sku=sku), warehouse, 10_000)
    place(seller, [("MUG", 1)])
    return {"Authorization": client_for(seller)._credentials["HTTP_AUTHORIZATION"]}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_never_errors_and_matches_its_schema(case, authorization):
    case.call_and_validate(headers=authorization, checks=CHECKS)
