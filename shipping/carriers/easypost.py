"""EasyPost, through its official SDK. Quotes and labels come from an EasyPost
shipment (created with the addresses and parcel, it carries every rate); buying one
rate returns the label and a tracker; a refund voids the label. The SDK's errors are
translated into CarrierError here and go no further."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import easypost
import httpx
from django.conf import settings
from django.utils.dateparse import parse_datetime
from djmoney.money import Money
from easypost.errors import EasyPostError
from easypost.util import validate_webhook

from shipping.carriers.base import (
    Address,
    LabelPurchase,
    LabelRef,
    RateQuote,
    ShipmentRequest,
    TrackingUpdate,
    grams_to_ounces,
    mm_to_inches,
)
from shipping.exceptions import CarrierError, NoRateAvailable, PushRejected
from shipping.models import CarrierAccount
from shipping.status import TrackingStatus

logger = logging.getLogger(__name__)

# EasyPost allows one parcel per shipment; heavier orders are split by staff.
SERVICE_SEPARATOR = ":"


def easypost_client() -> easypost.EasyPostClient:
    return easypost.EasyPostClient(
        settings.WAYBILL_EASYPOST_API_KEY,
        api_base=settings.WAYBILL_EASYPOST_API_BASE,
        timeout=settings.WAYBILL_CARRIER_TIMEOUT_SECONDS,
    )


def _address(address: Address) -> dict:
    return {
        "name": address.name,
        "company": address.company or None,
        "street1": address.line1,
        "street2": address.line2 or None,
        "city": address.city,
        "state": address.region or None,
        "zip": address.postal_code,
        "country": address.country,
        "phone": address.phone or None,
        "email": address.email or None,
    }


def _parcel(request: ShipmentRequest) -> dict:
    # One EasyPost shipment carries one parcel: several boxes ship as their sum.
    biggest = max(request.parcels, key=lambda p: p.length_mm * p.width_mm * p.height_mm)
    parcel = {"weight": float(grams_to_ounces(max(request.weight_grams, 1)))}
    if biggest.length_mm and biggest.width_mm and biggest.height_mm:
        parcel.update(
            length=float(mm_to_inches(biggest.length_mm)),
            width=float(mm_to_inches(biggest.width_mm)),
            height=float(mm_to_inches(biggest.height_mm)),
        )
    return parcel


def rate_service_code(rate) -> str:
    return f"{rate['carrier']}{SERVICE_SEPARATOR}{rate['service']}"


def _transit_days(rate) -> int | None:
    days = rate.get("est_delivery_days") or rate.get("delivery_days")
    return int(days) if days else None


def _money(amount, currency) -> Money:
    try:
        return Money(Decimal(str(amount)), currency or "USD")
    except (InvalidOperation, TypeError) as exc:
        raise CarrierError("EasyPost returned a rate that is not an amount.") from exc


def tracking_update(detail: dict) -> TrackingUpdate:
    """One EasyPost TrackingDetail → our update."""
    location = detail.get("tracking_location") or {}
    where = ", ".join(str(part) for part in (location.get("city"), location.get("state"), location.get("zip")) if part)
    occurred = parse_datetime(str(detail.get("datetime") or "")) or datetime.now(UTC)
    status = detail.get("status") or TrackingStatus.UNKNOWN
    if status not in TrackingStatus.values:
        status = TrackingStatus.UNKNOWN
    return TrackingUpdate(
        status=status,
        message=str(detail.get("message") or detail.get("status_detail") or status)[:255],
        occurred_at=occurred,
        location=where[:200],
    )


def tracker_updates(tracker: dict) -> list[TrackingUpdate]:
    """A Tracker's history; when it has none yet, its current status as one update."""
    details = tracker.get("tracking_details") or []
    if details:
        return [tracking_update(dict(detail)) for detail in details]
    status = tracker.get("status") or TrackingStatus.UNKNOWN
    occurred = parse_datetime(str(tracker.get("updated_at") or "")) or datetime.now(UTC)
    return [tracking_update({"status": status, "message": tracker.get("status_detail"), "datetime": occurred})]


class EasyPostCarrier:
    needs_polling = True

    def __init__(self, account: CarrierAccount, client: easypost.EasyPostClient | None = None):
        self.account = account
        self.client = client or easypost_client()

    def _create(self, request: ShipmentRequest):
        try:
            return self.client.shipment.create(
                to_address=_address(request.to_address),
                from_address=_address(request.from_address),
                parcel=_parcel(request),
                reference=request.reference,
                options={"label_format": "PDF", "currency": request.currency},
            )
        except EasyPostError as exc:
            raise self._error("quote", exc) from exc

    def _error(self, action: str, exc: EasyPostError) -> CarrierError:
        logger.warning("EasyPost %s failed: %s", action, exc)
        status = getattr(exc, "http_status", None)
        return CarrierError(
            f"EasyPost could not {action}: {str(getattr(exc, 'message', '') or 'no answer').rstrip('.')}.",
            details={"carrier": self.account.code, "status": status},
        )

    def _quote(self, rate) -> RateQuote:
        return RateQuote(
            carrier_id=self.account.pk,
            carrier_code=self.account.code,
            carrier_name=self.account.name,
            service_code=rate_service_code(rate),
            service_name=f"{rate['carrier']} {rate['service']}",
            amount=_money(rate["rate"], rate.get("currency")),
            transit_days=_transit_days(rate),
        )

    def rates(self, request: ShipmentRequest) -> list[RateQuote]:
        shipment = self._create(request)
        return [self._quote(rate) for rate in shipment.get("rates") or []]

    def buy_label(self, request: ShipmentRequest, *, service_code: str, tracking_number: str = "") -> LabelPurchase:
        shipment = self._create(request)
        rate = next((r for r in shipment.get("rates") or [] if rate_service_code(r) == service_code), None)
        if rate is None:
            raise NoRateAvailable(
                f"EasyPost offers no {service_code} for this parcel.", details={"service_code": service_code}
            )
        try:
            bought = self.client.shipment.buy(shipment["id"], rate={"id": rate["id"]})
        except EasyPostError as exc:
            raise self._error("buy the label", exc) from exc
        label = bought.get("postage_label") or {}
        tracker = bought.get("tracker") or {}
        label_url = label.get("label_pdf_url") or label.get("label_url") or ""
        tracking_code = bought.get("tracking_code") or ""
        selected = bought.get("selected_rate") or rate
        return LabelPurchase(
            service_code=service_code,
            service_name=f"{selected['carrier']} {selected['service']}",
            tracking_number=tracking_code,
            tracking_url=tracker.get("public_url") or self.account.tracking_url_for(tracking_code),
            transit_days=_transit_days(selected),
            postage=_money(selected["rate"], selected.get("currency")),
            label_pdf=self._download(label_url),
            label_url=label_url,
            provider_shipment_id=bought["id"],
            provider_tracker_id=tracker.get("id") or "",
        )

    def _download(self, url: str) -> bytes | None:
        """Keep a copy of the label so printing never depends on the carrier's file host."""
        if not url:
            return None
        try:
            response = httpx.get(url, timeout=settings.WAYBILL_CARRIER_TIMEOUT_SECONDS, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.warning("Could not download the EasyPost label %s: %s", url, exc)
            return None
        return response.content if response.content.startswith(b"%PDF") else None

    def void_label(self, label: LabelRef) -> None:
        try:
            refunded = self.client.shipment.refund(label.provider_shipment_id)
        except EasyPostError as exc:
            raise self._error("void the label", exc) from exc
        if refunded.get("refund_status") not in ("submitted", "refunded"):
            raise CarrierError(
                "EasyPost refused to void the label.", details={"refund_status": refunded.get("refund_status")}
            )

    def track(self, label: LabelRef) -> list[TrackingUpdate]:
        try:
            if label.provider_tracker_id:
                tracker = self.client.tracker.retrieve(label.provider_tracker_id)
            else:
                tracker = self.client.tracker.create(tracking_code=label.tracking_number)
        except EasyPostError as exc:
            raise self._error("track the parcel", exc) from exc
        return tracker_updates(tracker.to_dict() if hasattr(tracker, "to_dict") else dict(tracker))


@dataclass(frozen=True)
class EasyPostPush:
    event_id: str
    tracker_id: str
    tracking_code: str
    updates: list[TrackingUpdate]


def easypost_push_parse(*, body: bytes, headers: dict[str, str]) -> EasyPostPush:
    """Verify an EasyPost webhook (HMAC of the raw body with the webhook secret, checked
    by the SDK) and read the Tracker out of a ``tracker.*`` Event."""
    try:
        event = validate_webhook(body, headers, settings.WAYBILL_EASYPOST_WEBHOOK_SECRET)
    except (EasyPostError, ValueError) as exc:
        raise PushRejected("The EasyPost signature does not match.") from exc
    if not isinstance(event, dict) or event.get("object") != "Event":
        raise PushRejected("Not an EasyPost Event.")
    tracker = event.get("result")
    if not str(event.get("description", "")).startswith("tracker.") or not isinstance(tracker, dict):
        raise PushRejected("Only tracker events are taken.", details={"description": event.get("description")})
    return EasyPostPush(
        event_id=str(event.get("id") or ""),
        tracker_id=str(tracker.get("id") or ""),
        tracking_code=str(tracker.get("tracking_code") or ""),
        updates=tracker_updates(tracker),
    )
