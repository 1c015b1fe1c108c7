from decimal import Decimal

from inventory.routing import get_strategy
from inventory.routing.base import Destination, WarehouseOption

BOSTON = Destination(country="US", postal_code="02110", latitude=Decimal("42.3576"), longitude=Decimal("-71.0514"))
NOT_LOCATED = Destination(country="US", postal_code="00000")


def warehouse(wid, lat=None, lon=None, handling="0", priority=100, ships_to=(), code=None):
    return WarehouseOption(
        warehouse_id=wid,
        code=code or f"W{wid}",
        priority=priority,
        ships_to=frozenset(ships_to),
        latitude=None if lat is None else Decimal(str(lat)),
        longitude=None if lon is None else Decimal(str(lon)),
        handling_cost=Decimal(handling),
    )


def route(strategy, demands, warehouses, available, destination=BOSTON):
    return get_strategy(strategy).plan(
        demands=demands, destination=destination, warehouses=warehouses, available=available
    )
