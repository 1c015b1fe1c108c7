"""What a caller hands ``order_place``: plain, typed data, whoever the caller is (the
API, the admin, a marketplace import, the demo seeder)."""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class AddressInput:
    name: str
    line1: str
    city: str
    country: str
    postal_code: str = ""
    line2: str = ""
    company: str = ""
    region: str = ""
    phone: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "company": self.company,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": self.country,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class LineInput:
    sku: str
    quantity: int
    unit_price: Decimal | None = None  # None: the product's price, if it is in the order currency


@dataclass(frozen=True)
class PaymentRiskInput:
    """The payment processor's risk verdict on the order's payment, when it gave one
    (Stripe's ``outcome.risk_level`` and ``risk_score``)."""

    level: str
    score: int | None = None


@dataclass(frozen=True)
class OrderInput:
    currency: str
    shipping_address: AddressInput
    lines: list[LineInput]
    channel: str = "storefront"
    channel_account: str = ""
    external_id: str = ""
    customer_email: str = ""
    customer_name: str = ""
    customer_phone: str = ""
    billing_address: AddressInput | None = None
    shipping_total: Decimal = Decimal(0)
    tax_total: Decimal | None = None  # None: not stated; Waybill computes it from the seller's rates
    discount_total: Decimal = Decimal(0)
    customer_note: str = ""
    metadata: dict = field(default_factory=dict)
    paid_externally: bool = False
    payment_risk: PaymentRiskInput | None = None
    placed_at: "object | None" = None  # a datetime; imports keep the channel's time
    delivery_method: str = "ship"
    pickup_location: str = ""  # a pickup warehouse's code, for delivery_method "pickup"
    payment_intent: str = ""  # a Stripe PaymentIntent id the storefront confirmed (manual capture)
