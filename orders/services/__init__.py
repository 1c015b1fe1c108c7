from orders.services.inputs import AddressInput, LineInput, OrderInput
from orders.services.lifecycle import ensure_transition, order_cancel, order_transition
from orders.services.placement import order_place

__all__ = [
    "AddressInput",
    "LineInput",
    "OrderInput",
    "ensure_transition",
    "order_cancel",
    "order_place",
    "order_transition",
]
