"""A carrier Waybill does not talk to: staff buy the label elsewhere and type the
tracking number; updates come from staff or a push."""

from shipping.carriers.base import LabelPurchase, LabelRef, RateQuote, ShipmentRequest, TrackingUpdate
from shipping.exceptions import InvalidShipping
from shipping.models import CarrierAccount


class ManualCarrier:
    needs_polling = False

    def __init__(self, account: CarrierAccount):
        self.account = account

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        return []  # nothing to quote: the price is whatever staff paid elsewhere

    def buy_label(self, request: ShipmentRequest, *, service_code: str, tracking_number: str = "") -> LabelPurchase:
        tracking_number = tracking_number.strip()
        if not tracking_number:
            raise InvalidShipping(details={"tracking_number": ["Type the tracking number of the label you bought."]})
        if len(tracking_number) > 64:
            raise InvalidShipping(details={"tracking_number": ["At most 64 characters."]})
        return LabelPurchase(
            service_code=service_code or "manual",
            service_name=service_code or self.account.name,
            tracking_number=tracking_number,
            tracking_url=self.account.tracking_url_for(tracking_number),
        )

    def void_label(self, label: LabelRef) -> None:
        """Voided wherever it was bought; here the shipment just forgets it."""

    def track(self, label: LabelRef) -> list[TrackingUpdate]:
        return []
