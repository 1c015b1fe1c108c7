"""The ledger invariant under random operation sequences: for every stock row,
on_hand == sum of its ledger and 0 <= allocated <= on_hand, whatever is attempted."""

from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.actor import Actor
from core.exceptions import ApplicationError
from inventory.models import Stock
from inventory.services import (
    StockLine,
    stock_adjust,
    stock_count,
    stock_receive,
    stock_release,
    stock_reserve,
    stock_ship,
)
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory

ACTOR = Actor.system("hypothesis")
quantities = st.integers(min_value=1, max_value=40)


class StockLedgerMachine(RuleBasedStateMachine):
    """Drives the real services against the database and keeps a model of what the
    numbers must be; a refused operation must leave both unchanged."""

    def __init__(self):
        super().__init__()
        seller = SellerFactory()
        self.product = ProductFactory(seller=seller)
        self.warehouses = [WarehouseFactory(seller=seller), WarehouseFactory(seller=seller)]
        self.model = {w.pk: {"on_hand": 0, "allocated": 0} for w in self.warehouses}

    def _line(self, index, quantity):
        return StockLine(self.product.pk, self.warehouses[index].pk, quantity)

    def _expect_refusal(self, operation, warehouse_index, quantity):
        before = dict(self.model[self.warehouses[warehouse_index].pk])
        try:
            # Each operation is its own unit of work, as a request or task would run it.
            with transaction.atomic():
                operation()
        except ApplicationError:
            assert self.model[self.warehouses[warehouse_index].pk] == before
            return False
        return True

    @rule(index=st.integers(0, 1), quantity=quantities)
    def receive(self, index, quantity):
        with transaction.atomic():
            stock_receive(product=self.product, warehouse=self.warehouses[index], quantity=quantity, actor=ACTOR)
        self.model[self.warehouses[index].pk]["on_hand"] += quantity

    @rule(index=st.integers(0, 1), delta=st.integers(-40, 40).filter(bool))
    def adjust(self, index, delta):
        row = self.model[self.warehouses[index].pk]
        # Units that are not there cannot stay promised: an adjustment below what is
        # allocated cuts allocated too (orders re-route the difference).
        allowed = row["on_hand"] + delta >= 0
        done = self._expect_refusal(
            lambda: stock_adjust(
                product=self.product, warehouse=self.warehouses[index], delta=delta, reason="found", actor=ACTOR
            ),
            index,
            delta,
        )
        assert done == allowed
        if done:
            row["on_hand"] += delta
            row["allocated"] = min(row["allocated"], row["on_hand"])

    @rule(index=st.integers(0, 1), counted=st.integers(0, 80))
    def count(self, index, counted):
        row = self.model[self.warehouses[index].pk]
        stock_count(product=self.product, warehouse=self.warehouses[index], counted=counted, actor=ACTOR)
        row["on_hand"] = counted
        row["allocated"] = min(row["allocated"], counted)

    @rule(index=st.integers(0, 1), quantity=quantities)
    def reserve(self, index, quantity):
        row = self.model[self.warehouses[index].pk]
        allowed = row["on_hand"] - row["allocated"] >= quantity
        done = self._expect_refusal(lambda: stock_reserve(lines=[self._line(index, quantity)]), index, quantity)
        assert done == allowed
        if done:
            row["allocated"] += quantity

    @rule(index=st.integers(0, 1), quantity=quantities)
    def release(self, index, quantity):
        row = self.model[self.warehouses[index].pk]
        allowed = row["allocated"] >= quantity
        done = self._expect_refusal(lambda: stock_release(lines=[self._line(index, quantity)]), index, quantity)
        assert done == allowed
        if done:
            row["allocated"] -= quantity

    @rule(index=st.integers(0, 1), quantity=quantities)
    def ship(self, index, quantity):
        row = self.model[self.warehouses[index].pk]
        allowed = row["allocated"] >= quantity
        done = self._expect_refusal(
            lambda: stock_ship(lines=[self._line(index, quantity)], actor=ACTOR, reference="test"), index, quantity
        )
        assert done == allowed
        if done:
            row["on_hand"] -= quantity
            row["allocated"] -= quantity

    @invariant()
    def database_matches_model_and_ledger(self):
        for stock in Stock.objects.filter(product=self.product).annotate(ledger_sum=Sum("ledger__quantity")):
            expected = self.model[stock.warehouse_id]
            assert (stock.on_hand, stock.allocated) == (expected["on_hand"], expected["allocated"])
            assert stock.on_hand == (stock.ledger_sum or 0)
            assert 0 <= stock.allocated <= stock.on_hand


def test_ledger_sums_to_on_hand_under_random_operations(db):
    run_state_machine_as_test(
        StockLedgerMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


def test_ledger_rows_carry_balance_and_actor(db):
    seller = SellerFactory()
    product, warehouse = ProductFactory(seller=seller), WarehouseFactory(seller=seller)
    stock_receive(product=product, warehouse=warehouse, quantity=12, actor=ACTOR, reference="po:7")
    stock_adjust(product=product, warehouse=warehouse, delta=-2, reason="damaged in transit", actor=ACTOR)

    entries = list(Stock.objects.get(product=product).ledger.order_by("id"))

    assert [(e.kind, e.quantity, e.balance_after) for e in entries] == [("receipt", 12, 12), ("adjustment", -2, 10)]
    assert entries[0].reference == "po:7"
    assert entries[1].reason == "damaged in transit"
    assert {e.actor_label for e in entries} == {"hypothesis"}


def test_adjustment_without_reason_is_refused_and_writes_nothing(db):
    seller = SellerFactory()
    product, warehouse = ProductFactory(seller=seller), WarehouseFactory(seller=seller)
    stock_receive(product=product, warehouse=warehouse, quantity=5, actor=ACTOR)

    try:
        with transaction.atomic():
            stock_adjust(product=product, warehouse=warehouse, delta=-1, reason="  ", actor=ACTOR)
    except ApplicationError as exc:
        assert exc.code == "invalid_stock_change"
    else:
        raise AssertionError("an adjustment without a reason was accepted")
    stock = Stock.objects.get(product=product)
    assert stock.on_hand == 5 and stock.ledger.count() == 1
