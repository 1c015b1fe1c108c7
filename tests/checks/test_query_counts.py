"""The checks must not make the hot path chatty: one query reads the seller's policy
and rules (then kept a few seconds in the process's cache), one reads the history all
six rules need, whatever the seller's size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderPolicy, RiskRuleKind
from tests.checks.conftest import enable
from tests.factories import order_body


def queries_to_create(api, body) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/v1/orders/", body, format="json")
    assert response.status_code == 201, response.json()
    return len(captured), response.json()["lifecycle"]


def enable_all_six(seller):
    OrderPolicy.objects.create(seller=seller, max_order_values={"USD": "5000.00"}, max_line_quantity=50)
    enable(seller, RiskRuleKind.VELOCITY_EMAIL, max_orders=50)
    enable(seller, RiskRuleKind.VELOCITY_ADDRESS, max_orders=50)
    enable(seller, RiskRuleKind.COUNTRY_MISMATCH)
    enable(seller, RiskRuleKind.FIRST_ORDER_VALUE, USD="1000.00")
    enable(seller, RiskRuleKind.DUPLICATE_ORDER, window_minutes=10)
    enable(seller, RiskRuleKind.PAYMENT_RISK)


def test_create_path_query_counts(api, shop):
    created = api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json")  # warms the key's last-used
    assert created.status_code == 201

    baseline, lifecycle = queries_to_create(api, order_body([("MUG", 1), ("TEA", 1)], customer={"email": "a@x.io"}))
    assert lifecycle == "confirmed"

    enable_all_six(shop)
    # The change cleared the cached checks: the next order reads them again, once.
    first, lifecycle = queries_to_create(api, order_body([("TEA", 3)], customer={"email": "c@x.io"}))
    assert lifecycle == "confirmed"
    checked, lifecycle = queries_to_create(api, order_body([("MUG", 1), ("TEA", 2)], customer={"email": "b@x.io"}))
    assert lifecycle == "confirmed"
    held, lifecycle = queries_to_create(
        api,
        order_body([("MUG", 1), ("TEA", 2)], customer={"email": "b@x.io"}, payment_risk={"level": "highest"}),
    )
    assert lifecycle == "on_hold"

    print(f"baseline={baseline} first={first} checked={checked} held={held}")
    assert first - checked == 1
    # All six rules, none firing: the history query, and on PostgreSQL the order number
    # taken on its own before it (without such rules the lines' INSERT takes it), and
    # the stock UPDATE, which must go before them instead of with the lines' INSERT
    # (core.fastsql.deferred_writes sends held writes before any other statement).
    folded = 2 if connection.vendor == "postgresql" else 0
    assert checked - baseline == 1 + folded
    # Firing: the hold rows and the order.on_hold outbox row as well, which on
    # PostgreSQL go with the placement's last statement.
    assert held - baseline == 1 + folded + (0 if connection.vendor == "postgresql" else 2)


def test_the_order_number_is_taken_last(api, shop):
    """The number's row lock serializes a seller's placements from the statement that
    takes it to COMMIT; on PostgreSQL, without history rules, that is the lines' INSERT,
    the last statement whose answer the placement waits for: after it, the order, its
    allocations, events, outbox and idempotency rows go in one statement."""
    if connection.vendor != "postgresql":
        pytest.skip("the lines' INSERT takes the number on PostgreSQL only")
    api.post("/api/v1/orders/", order_body([("MUG", 1)]), format="json")  # warms the key's last-used
    with CaptureQueriesContext(connection) as captured:
        response = api.post(
            "/api/v1/orders/", order_body([("MUG", 1), ("TEA", 2)]), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
        )
    assert response.status_code == 201, response.json()
    statements = [query["sql"] for query in captured]
    taking = [i for i, sql in enumerate(statements) if "sellers_sellersequence" in sql]
    assert len(taking) == 1 and 'INSERT INTO "orders_orderline"' in statements[taking[0]]
    assert 'UPDATE "inventory_stock"' in statements[taking[0]]
    # (In a test the transaction is a savepoint, released where COMMIT would be.)
    after = [sql for sql in statements[taking[0] + 1 :] if not sql.startswith(("RELEASE SAVEPOINT", "COMMIT"))]
    assert len(after) == 1
    for table in ("orders_order", "orders_allocation", "orders_orderevent", "core_outboxevent"):
        assert f'INSERT INTO "{table}"' in after[0], table
    assert 'INSERT INTO "orders_idempotencyrecord"' in after[0]
    order = Order.objects.get(pk=response.json()["id"])
    assert order.number == response.json()["number"] and order.lines.count() == 2
    assert order.events.count() == 3 and order.lines.first().allocations.count() == 1
