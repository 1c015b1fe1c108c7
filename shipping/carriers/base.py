"""The one interface every carrier backend implements (Django's backend pattern: one
protocol, one module per implementation, chosen by the account's kind), and the plain
data that crosses it. Backends do network I/O: call them with no transaction open."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from djmoney.money import Money


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    city: str
    country: str
    postal_code: str = ""
    region: str = ""
    line2: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class ParcelSpec:
    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True)
class ShipmentRequest:
    """What a carrier needs to quote or label one shipment."""

    reference: str
    from_address: Address
    to_address: Address
    parcels: tuple[ParcelSpec, ...]
    currency: str
    contents: tuple[tuple[str, int], ...] = ()  # (sku, quantity), printed on the label

    @property
    def weight_grams(self) -> int:
        return sum(parcel.weight_grams for parcel in self.parcels)


@dataclass(frozen=True, slots=True)
class RateQuote:
    carrier_id: int
    carrier_code: str
    carrier_name: str
    service_code: str
    service_name: str
    amount: Money
    transit_days: int | None


@dataclass(frozen=True)
class LabelPurchase:
    service_code: str
    service_name: str
    tracking_number: str
    tracking_url: str = ""
    transit_days: int | None = None
    postage: Money | None = None
    label_pdf: bytes | None = None
    label_url: str = ""
    provider_shipment_id: str = ""
    provider_tracker_id: str = ""


@dataclass(frozen=True, slots=True)
class TrackingUpdate:
    status: str  # a shipping.status.TrackingStatus value
    message: str
    occurred_at: datetime
    location: str = ""


@dataclass(frozen=True)
class LabelRef:
    """What a backend needs to void or track a label it sold."""

    tracking_number: str
    provider_shipment_id: str = ""
    provider_tracker_id: str = ""
    extra: dict = field(default_factory=dict)


class Carrier(Protocol):
    # True when the carrier must be asked for tracking updates (it does not push them).
    needs_polling: bool

    def rates(self, request: ShipmentRequest) -> list[RateQuote]: ...

    def buy_label(self, request: ShipmentRequest, *, service_code: str, tracking_number: str = "") -> LabelPurchase:
        """Buy (or, for the manual carrier, record) a label for one service."""
        ...

    def void_label(self, label: LabelRef) -> None: ...

    def track(self, label: LabelRef) -> list[TrackingUpdate]: ...


def grams_to_ounces(grams: int) -> Decimal:
    return (Decimal(grams) / Decimal("28.349523125")).quantize(Decimal("0.1"))


def mm_to_inches(mm: int) -> Decimal:
    return (Decimal(mm) / Decimal("25.4")).quantize(Decimal("0.1"))
