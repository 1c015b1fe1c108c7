"""What one shipment from a warehouse costs: its handling cost plus a distance-based
shipping cost, great-circle distance from the warehouse to the customer times a rate.

Costs are integers in ten-thousandths of the currency unit (the precision of
``MoneyField``), so sums are exact and the same plan comes out on every machine. A
warehouse's *weight* folds its priority in below the cost, so equal costs are broken by
priority without a second comparison: weight = cost << PRIORITY_BITS | priority.
"""

import math
from collections.abc import Sequence
from decimal import Decimal

from inventory.routing.base import Destination, WarehouseOption

EARTH_RADIUS_KM = 6371.0088
SHIPPING_RATE_PER_KM = Decimal("0.005")  # 1,000 km of shipping costs as much as 5.00 of handling
COST_SCALE = 10_000  # costs are counted in 1/10,000 of the currency unit
# A warehouse without coordinates is treated as being as far away as anything on Earth
# can be, so a located warehouse is always preferred to it at equal handling cost.
UNKNOWN_DISTANCE_KM = math.pi * EARTH_RADIUS_KM
PRIORITY_BITS = 24  # Σ priority over 50 warehouses (≤ 50 × 32,767) stays below 2**24

_RATE_UNITS = float(SHIPPING_RATE_PER_KM * COST_SCALE)


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_km(warehouse: WarehouseOption, destination: Destination) -> float | None:
    """None when the destination is not located; UNKNOWN_DISTANCE_KM when the warehouse is not."""
    if not destination.is_located:
        return None
    if warehouse.latitude is None or warehouse.longitude is None:
        return UNKNOWN_DISTANCE_KM
    return great_circle_km(
        float(warehouse.latitude), float(warehouse.longitude), float(destination.latitude), float(destination.longitude)
    )


def shipment_cost(warehouse: WarehouseOption, destination: Destination) -> int:
    """Handling plus distance cost of one shipment, in 1/COST_SCALE units. Without a
    located destination it is handling only (priority then breaks ties via the weight)."""
    handling = int((warehouse.handling_cost * COST_SCALE).to_integral_value())
    km = distance_km(warehouse, destination)
    return handling if km is None else handling + round(km * _RATE_UNITS)


def shipment_weight(warehouse: WarehouseOption, destination: Destination) -> int:
    return (shipment_cost(warehouse, destination) << PRIORITY_BITS) | warehouse.priority


def cost_from_weight(weight: int) -> int:
    return weight >> PRIORITY_BITS


def format_cost(units: int) -> str:
    return f"{Decimal(units) / COST_SCALE:.2f}"


# Decimal → number conversions are most of the cost of weighing a warehouse, and the
# same warehouses are weighed for every order: both are memoised by value (bounded).
_handling_units: dict[Decimal, int] = {}
_latitudes: dict[Decimal, tuple[float, float]] = {}  # latitude → (radians, cosine)
_MEMO_LIMIT = 4096


def _handling(cost: Decimal) -> int:
    units = _handling_units.get(cost)
    if units is None:
        if len(_handling_units) >= _MEMO_LIMIT:
            _handling_units.clear()
        units = _handling_units[cost] = int((cost * COST_SCALE).to_integral_value())
    return units


def _latitude(latitude: Decimal) -> tuple[float, float]:
    found = _latitudes.get(latitude)
    if found is None:
        if len(_latitudes) >= _MEMO_LIMIT:
            _latitudes.clear()
        phi = math.radians(float(latitude))
        found = _latitudes[latitude] = (phi, math.cos(phi))
    return found


def shipment_weights(warehouses: Sequence[WarehouseOption], destination: Destination) -> list[int]:
    """``shipment_weight`` of each warehouse, with the destination's terms computed once
    and the conversions memoised: the same floating-point operations in the same order
    as ``great_circle_km``, so the same integers."""
    if not destination.is_located:
        return [(_handling(w.handling_cost) << PRIORITY_BITS) | w.priority for w in warehouses]
    lon2 = float(destination.longitude)
    phi2, cos_phi2 = _latitude(destination.latitude)
    radians, sin, asin, sqrt = math.radians, math.sin, math.asin, math.sqrt
    unknown = round(UNKNOWN_DISTANCE_KM * _RATE_UNITS)
    weights = []
    for w in warehouses:
        if w.latitude is None or w.longitude is None:
            shipping = unknown
        else:
            phi1, cos_phi1 = _latitude(w.latitude)
            half_dlambda = radians(lon2 - float(w.longitude)) / 2
            a = sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos_phi2 * sin(half_dlambda) ** 2
            shipping = round(2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(a))) * _RATE_UNITS)
        weights.append(((_handling(w.handling_cost) + shipping) << PRIORITY_BITS) | w.priority)
    return weights
