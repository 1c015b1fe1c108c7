from shipping.models.carriers import CarrierAccount, CarrierKind, ShippingZone, TableRate
from shipping.models.shipment import (
    CarrierPush,
    Parcel,
    PickWave,
    Shipment,
    ShipmentLine,
    TrackingEvent,
    TrackingSource,
)

__all__ = [
    "CarrierAccount",
    "CarrierKind",
    "CarrierPush",
    "Parcel",
    "PickWave",
    "Shipment",
    "ShipmentLine",
    "ShippingZone",
    "TableRate",
    "TrackingEvent",
    "TrackingSource",
]
