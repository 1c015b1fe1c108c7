"""Allocation strategies, Django-backend style: one protocol in ``base``, one module per
strategy, chosen by name from this explicit table (no dynamic loading by label)."""

from inventory.routing.base import RoutingStrategy
from inventory.routing.nearest import NearestStrategy
from inventory.routing.optimal import OptimalStrategy
from inventory.routing.priority import PriorityStrategy

STRATEGIES: dict[str, type] = {
    OptimalStrategy.name: OptimalStrategy,
    NearestStrategy.name: NearestStrategy,
    PriorityStrategy.name: PriorityStrategy,
}
DEFAULT_STRATEGY = OptimalStrategy.name


def get_strategy(name: str | None = None) -> RoutingStrategy:
    return STRATEGIES[name or DEFAULT_STRATEGY]()
