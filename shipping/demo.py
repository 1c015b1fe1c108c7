"""Shipping's part of the demo data: a table-rate carrier per demo seller, so the
demo's open orders can be labelled, shipped and tracked from the admin."""

from decimal import Decimal

from djmoney.money import Money

from inventory.models import Warehouse
from sellers.models import Seller
from shipping.models import CarrierAccount, CarrierKind, ShippingZone, TableRate

# service code, name, business days, weight bands (max grams, price in the base currency)
SERVICES = (
    ("ground", "Ground", 5, ((500, "5.90"), (2000, "8.90"), (10000, "14.90"), (30000, "29.00"))),
    ("express", "Express", 1, ((500, "16.00"), (2000, "22.00"), (10000, "38.00"))),
)
ABROAD_FACTOR = Decimal("2.5")


def demo_carriers_create(seller: Seller) -> CarrierAccount:
    """ "<Seller> Post": a domestic zone at the listed prices and one for every other
    country the seller's warehouses ship to at ABROAD_FACTOR times them."""
    carrier = CarrierAccount.objects.create(
        seller=seller,
        code="post",
        name=f"{seller.name} Post",
        kind=CarrierKind.TABLE_RATE,
        tracking_url_template="https://track.example.com/{tracking_number}",
    )
    served = set()
    for ships_to in Warehouse.objects.filter(seller=seller).values_list("ships_to", flat=True):
        served.update(ships_to or [])
    abroad = sorted(served - {seller.country})
    zones = [
        (ShippingZone.objects.create(seller=seller, carrier=carrier, name="Domestic", countries=[seller.country]), 1)
    ]
    if abroad:
        zones.append(
            (
                ShippingZone.objects.create(seller=seller, carrier=carrier, name="Abroad", countries=abroad),
                ABROAD_FACTOR,
            )
        )
    TableRate.objects.bulk_create(
        TableRate(
            seller=seller,
            zone=zone,
            service_code=code,
            service_name=name,
            transit_days=days if factor == 1 else days + 3,
            max_weight_grams=grams,
            price=Money(Decimal(price) * factor, seller.base_currency),
        )
        for zone, factor in zones
        for code, name, days, bands in SERVICES
        for grams, price in bands
    )
    return carrier
