"""Live shipping options for a storefront's checkout: the basket is routed as an order
would be (nothing reserved), each warehouse's parcel is quoted by every carrier, and a
service is offered when it can carry every parcel, at the sum of their prices."""

from collections import defaultdict
from dataclasses import dataclass

from djmoney.money import Money

from inventory.geocoding import destination_build
from inventory.models import Product, Warehouse
from inventory.selectors import routing_demands, routing_preview
from sellers.models import Seller
from shipping.carriers.base import Address, ParcelSpec, RateQuote, ShipmentRequest
from shipping.exceptions import InvalidShipping
from shipping.models import CarrierAccount
from shipping.services.labels import quotes_collect, warehouse_address


@dataclass(frozen=True, slots=True)
class RateOption:
    carrier: str
    carrier_name: str
    service: str
    service_name: str
    amount: Money
    transit_days: int | None


@dataclass(frozen=True)
class BasketQuote:
    shipments: int
    options: list[RateOption]
    unavailable: dict[str, str]


def basket_quote(*, seller: Seller, lines: list[tuple[str, int]], address: dict, currency: str = "") -> BasketQuote:
    currency = currency or seller.base_currency
    country = address["country"].upper()
    demands = routing_demands(seller_id=seller.pk, lines=lines)
    preview = routing_preview(
        seller_id=seller.pk,
        demands=demands,
        destination=destination_build(
            country=country, postal_code=address.get("postal_code", ""), city=address.get("city", "")
        ),
        strategy=seller.routing_strategy,
    )
    # The preview names what ships (a kit's components); the basket names what was asked for.
    skus = {sku for sku, _ in lines} | {line.sku for shipment in preview.shipments for line in shipment.lines}
    products = {p.sku: p for p in Product.objects.filter(seller=seller, sku__in=skus)}
    parcels = _parcels(seller, preview, products, lines)
    to_address = Address(
        name=address.get("name") or "Customer",
        line1=address.get("line1") or "",
        city=address.get("city") or "",
        region=address.get("region") or "",
        postal_code=address.get("postal_code") or "",
        country=country,
    )
    carriers = list(CarrierAccount.objects.filter(seller=seller, is_active=True).order_by("pk"))
    per_parcel: list[list[RateQuote]] = []
    unavailable: dict[str, str] = {}
    for index, (warehouse, weight) in enumerate(parcels):
        request = ShipmentRequest(
            reference=f"quote-{index + 1}",
            from_address=warehouse_address(warehouse),
            to_address=to_address,
            parcels=(ParcelSpec(weight_grams=max(weight, 1)),),
            currency=currency,
        )
        collected = quotes_collect(carriers=carriers, request=request)
        per_parcel.append(collected.quotes)
        unavailable.update(collected.errors)
    return BasketQuote(shipments=len(parcels), options=_combine(per_parcel), unavailable=unavailable)


def _parcels(seller, preview, products, lines) -> list[tuple[Warehouse, int]]:
    """(warehouse, grams) per parcel the basket would ship in."""
    if preview.shipments:
        warehouses = {
            w.code: w
            for w in Warehouse.objects.filter(seller=seller, code__in=[s.warehouse for s in preview.shipments])
        }
        return [
            (warehouses[s.warehouse], sum(products[line.sku].weight_grams * line.quantity for line in s.lines))
            for s in preview.shipments
        ]
    # Nothing in stock anywhere (a preorder, say): quote from the first warehouse.
    warehouse = Warehouse.objects.filter(seller=seller, is_active=True).order_by("priority", "code").first()
    if warehouse is None:
        raise InvalidShipping("The seller has no warehouse to ship from.")
    return [(warehouse, sum(products[sku].weight_grams * quantity for sku, quantity in lines))]


def _combine(per_parcel: list[list[RateQuote]]) -> list[RateOption]:
    """A service that can carry every parcel, priced as their sum, slowest parcel's days."""
    found: dict[tuple[str, str], list[RateQuote]] = defaultdict(list)
    for quotes in per_parcel:
        for quote in quotes:
            found[(quote.carrier_code, quote.service_code)].append(quote)
    options = []
    for quotes in found.values():
        currencies = {q.amount.currency.code for q in quotes}
        if len(quotes) != len(per_parcel) or len(currencies) != 1:
            continue
        days = [q.transit_days for q in quotes]
        first = quotes[0]
        options.append(
            RateOption(
                carrier=first.carrier_code,
                carrier_name=first.carrier_name,
                service=first.service_code,
                service_name=first.service_name,
                amount=sum((q.amount for q in quotes[1:]), first.amount),
                transit_days=None if None in days else max(days),
            )
        )
    options.sort(key=lambda o: (o.amount.amount, o.transit_days or 999, o.carrier, o.service))
    return options
