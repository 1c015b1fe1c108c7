"""The built-in carrier: prices from the seller's zone and weight-band tables, labels
printed by Waybill itself (a PDF with a Code 128 barcode of the tracking number)."""

import secrets

from djmoney.money import Money

from shipping.carriers.base import LabelPurchase, LabelRef, RateQuote, ShipmentRequest, TrackingUpdate
from shipping.documents import label_pdf
from shipping.exceptions import NoRateAvailable
from shipping.models import CarrierAccount, ShippingZone, TableRate


def zone_for(zones: list[ShippingZone], *, country: str, postal_code: str) -> ShippingZone | None:
    """The most specific zone for an address: a matching postal prefix (the longest)
    beats a whole-country zone."""
    postal = postal_code.replace(" ", "").upper()
    best, best_length = None, -1
    for zone in zones:
        if country not in zone.countries:
            continue
        if not zone.postal_prefixes:
            length = 0
        else:
            matching = [len(p) for p in zone.postal_prefixes if postal.startswith(str(p).replace(" ", "").upper())]
            if not matching:
                continue
            length = max(matching)
        if length > best_length:
            best, best_length = zone, length
    return best


def band_price(rates: list[TableRate], weight_grams: int) -> TableRate | None:
    """The band whose limit is the smallest one at or above the weight."""
    fitting = [rate for rate in rates if rate.max_weight_grams >= weight_grams]
    return min(fitting, key=lambda rate: rate.max_weight_grams) if fitting else None


class TableRateCarrier:
    needs_polling = False

    def __init__(self, account: CarrierAccount):
        self.account = account

    def _services(self, request: ShipmentRequest) -> dict[str, tuple[TableRate, Money]]:
        zones = list(ShippingZone.objects.filter(carrier=self.account).prefetch_related("rates"))
        zone = zone_for(zones, country=request.to_address.country, postal_code=request.to_address.postal_code)
        if zone is None:
            return {}
        by_service: dict[str, list[TableRate]] = {}
        for rate in zone.rates.all():
            by_service.setdefault(rate.service_code, []).append(rate)
        priced = {}
        for service_code, bands in by_service.items():
            picked = [band_price(bands, parcel.weight_grams) for parcel in request.parcels]
            if any(band is None for band in picked):
                continue  # a parcel too heavy for this service
            total = sum((band.price for band in picked[1:]), picked[0].price)
            priced[service_code] = (picked[0], total)
        return priced

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        return [
            RateQuote(
                carrier_id=self.account.pk,
                carrier_code=self.account.code,
                carrier_name=self.account.name,
                service_code=service_code,
                service_name=band.service_name,
                amount=total,
                transit_days=band.transit_days,
            )
            for service_code, (band, total) in sorted(self._services(request).items())
        ]

    def buy_label(self, request: ShipmentRequest, *, service_code: str, tracking_number: str = "") -> LabelPurchase:
        priced = self._services(request)
        if service_code not in priced:
            raise NoRateAvailable(
                f"{self.account.name} has no {service_code!r} service to this address for this weight.",
                details={"service_code": service_code},
            )
        band, total = priced[service_code]
        tracking_number = f"WB{self.account.pk:04d}{secrets.randbelow(10**10):010d}"
        return LabelPurchase(
            service_code=service_code,
            service_name=band.service_name,
            tracking_number=tracking_number,
            tracking_url=self.account.tracking_url_for(tracking_number),
            transit_days=band.transit_days,
            postage=total,
            label_pdf=label_pdf(
                carrier_name=self.account.name,
                service_name=band.service_name,
                tracking_number=tracking_number,
                request=request,
            ),
        )

    def void_label(self, label: LabelRef) -> None:
        """Our own label: nothing was bought, so there is nothing to refund."""

    def track(self, label: LabelRef) -> list[TrackingUpdate]:
        return []
