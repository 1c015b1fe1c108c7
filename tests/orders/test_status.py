from hypothesis import given
from hypothesis import strategies as st

from orders.status import (
    LIFECYCLE_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    FulfillmentStatus,
    Lifecycle,
    LineQuantities,
    PaymentStatus,
    derive_fulfillment,
)


def test_every_state_has_an_entry_in_its_transition_table():
    assert set(LIFECYCLE_TRANSITIONS) == set(Lifecycle.values)
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus.values)
    for table, states in ((LIFECYCLE_TRANSITIONS, Lifecycle.values), (PAYMENT_TRANSITIONS, PaymentStatus.values)):
        assert all(target in states for targets in table.values() for target in targets)


def test_terminal_states_go_nowhere_and_the_happy_path_is_allowed():
    assert LIFECYCLE_TRANSITIONS[Lifecycle.COMPLETED] == frozenset()
    assert LIFECYCLE_TRANSITIONS[Lifecycle.CANCELLED] == frozenset()
    path = [Lifecycle.DRAFT, Lifecycle.PLACED, Lifecycle.CONFIRMED, Lifecycle.IN_FULFILLMENT, Lifecycle.COMPLETED]
    assert all(b in LIFECYCLE_TRANSITIONS[a] for a, b in zip(path, path[1:], strict=False))
    assert Lifecycle.CONFIRMED in LIFECYCLE_TRANSITIONS[Lifecycle.ON_HOLD]
    assert Lifecycle.ON_HOLD in LIFECYCLE_TRANSITIONS[Lifecycle.CONFIRMED]


def test_every_non_terminal_state_can_still_be_cancelled():
    for state in set(Lifecycle.values) - {Lifecycle.COMPLETED, Lifecycle.CANCELLED}:
        assert Lifecycle.CANCELLED in LIFECYCLE_TRANSITIONS[state]


def test_fulfillment_is_derived_from_quantities():
    assert derive_fulfillment([LineQuantities(3)]) == FulfillmentStatus.UNALLOCATED
    assert derive_fulfillment([LineQuantities(3, allocated=1)]) == FulfillmentStatus.BACKORDERED
    assert derive_fulfillment([LineQuantities(3, allocated=3)]) == FulfillmentStatus.ALLOCATED
    lines = [LineQuantities(2, shipped=2), LineQuantities(1, allocated=1)]
    assert derive_fulfillment(lines) == FulfillmentStatus.PARTIALLY_SHIPPED
    assert derive_fulfillment([LineQuantities(2, shipped=2)]) == FulfillmentStatus.SHIPPED
    assert derive_fulfillment([LineQuantities(2, shipped=2)], delivered=True) == FulfillmentStatus.DELIVERED
    assert derive_fulfillment([LineQuantities(2, shipped=2, returned=1)]) == FulfillmentStatus.PARTIALLY_RETURNED
    assert derive_fulfillment([LineQuantities(2, shipped=2, returned=2)]) == FulfillmentStatus.RETURNED
    assert derive_fulfillment([LineQuantities(3, shipped=1, cancelled=2)]) == FulfillmentStatus.SHIPPED


@given(st.lists(st.tuples(st.integers(1, 9), st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=5))
def test_derivation_is_total_and_shipped_means_every_open_unit_left(raw):
    lines = []
    for quantity, shipped, allocated in raw:
        shipped = min(shipped, quantity)
        lines.append(LineQuantities(quantity, allocated=min(allocated, quantity - shipped), shipped=shipped))
    status = derive_fulfillment(lines)
    assert status in FulfillmentStatus.values
    all_shipped = all(line.shipped == line.quantity for line in lines)
    assert (status == FulfillmentStatus.SHIPPED) == all_shipped
