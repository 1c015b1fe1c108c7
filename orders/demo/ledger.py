"""The stock ledger that goes with a year of orders, as plain data.

Every stock row starts with an opening receipt, loses one shipment entry per order
line it filled, and is refilled by a purchase-order receipt whenever a shipment would
take it under its reorder point, up to a level of about six weeks of its own demand.
That gives the sawtooth a stock chart should show, never a negative balance, and an
``on_hand`` that is by construction the sum of the row's entries.
"""

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from orders.demo.history import OrderPlan

# (product index, warehouse code)
StockKey = tuple[int, str]

COVER_DAYS = 42
REORDER_DAYS = 12
MINIMUM_LEVEL = 12
MINIMUM_REORDER_POINT = 4
CASE_PACK = 6


@dataclass(frozen=True, slots=True)
class LedgerRow:
    key: StockKey
    kind: str  # a LedgerKind value
    quantity: int
    balance_after: int
    created_at: datetime
    reference: str
    reason: str


@dataclass(frozen=True, slots=True)
class StockPolicy:
    order_up_to: int
    reorder_point: int


def whole_cases(quantity: int) -> int:
    """Suppliers ship whole cases: round up, and at least one case."""
    return max(1, math.ceil(quantity / CASE_PACK)) * CASE_PACK


def stock_policy(*, shipped_per_year: int, days: int) -> StockPolicy:
    per_day = shipped_per_year / max(days, 1)
    return StockPolicy(
        order_up_to=whole_cases(max(MINIMUM_LEVEL, math.ceil(per_day * COVER_DAYS))),
        reorder_point=max(MINIMUM_REORDER_POINT, math.ceil(per_day * REORDER_DAYS)),
    )


def simulate_ledger(
    *,
    orders: Sequence[OrderPlan],
    keys: Iterable[StockKey],
    opened_at: datetime,
    days: int,
    po_prefix: str,
    rng: random.Random,
) -> tuple[list[LedgerRow], dict[StockKey, int], dict[StockKey, StockPolicy]]:
    """Ledger rows in chronological order, the final balance and the policy per key."""
    shipments: dict[StockKey, list[tuple[datetime, int, int]]] = defaultdict(list)
    for order in orders:
        for line in order.lines:
            shipments[(line.product_index, line.warehouse_code)].append((order.shipped_at, line.quantity, order.number))
    rows: list[tuple[datetime, int, LedgerRow]] = []
    balances: dict[StockKey, int] = {}
    policies: dict[StockKey, StockPolicy] = {}
    purchase_orders = 0
    for key in sorted(set(keys)):
        moves = sorted(shipments.get(key, ()))
        policy = stock_policy(shipped_per_year=sum(quantity for _, quantity, _ in moves), days=days)
        policies[key] = policy
        balance = policy.order_up_to
        rows.append(
            (
                opened_at,
                len(rows),
                LedgerRow(key, "receipt", balance, balance, opened_at, "opening", "Opening balance"),
            )
        )
        last_time = opened_at
        for shipped_at, quantity, number in moves:
            if balance - quantity < policy.reorder_point:
                purchase_orders += 1
                received = whole_cases(policy.order_up_to - balance + quantity)
                balance += received
                # The delivery arrived some hours before the shipment that needed it.
                arrived = min(shipped_at, max(last_time, shipped_at - timedelta(hours=rng.uniform(1, 30))))
                reference = f"{po_prefix}{purchase_orders:05d}"
                row = LedgerRow(key, "receipt", received, balance, arrived, reference, "Purchase order received")
                rows.append((arrived, len(rows), row))
            balance -= quantity
            rows.append(
                (
                    shipped_at,
                    len(rows),
                    LedgerRow(key, "shipment", -quantity, balance, shipped_at, f"order:{number}", ""),
                )
            )
            last_time = shipped_at
        balances[key] = balance
    rows.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in rows], balances, policies
