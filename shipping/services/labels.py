"""Rates, rate shopping and labels. Carriers are called with no transaction open and no
lock held: the shipment is read, the carrier answers, then a short transaction locks
the order and the shipment, checks nothing changed meanwhile and writes the label. A
label bought for a shipment that changed meanwhile is voided again."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.actor import Actor
from orders.models import EventType, Order
from orders.services.fulfillment import order_shipment_event
from orders.status import Lifecycle
from shipping.carriers import carrier_backend
from shipping.carriers.base import Address, LabelPurchase, LabelRef, ParcelSpec, RateQuote, ShipmentRequest
from shipping.exceptions import CarrierError, InvalidShipping, LabelConflict, NoRateAvailable, ShipmentNotFound
from shipping.models import CarrierAccount, CarrierKind, Shipment, TrackingEvent, TrackingSource
from shipping.services.common import LABEL_VOIDING, label_fingerprint, lock_order_and_shipment, shipment_ref
from shipping.services.shipments import estimated_parcel
from shipping.status import LABEL_STATUSES, ShipmentStatus, TrackingStatus

logger = logging.getLogger(__name__)


def rate_shop(quotes: Iterable[RateQuote], *, max_transit_days: int | None, currency: str) -> RateQuote | None:
    """The cheapest quote that arrives within the promised days (a quote with unknown
    transit time cannot promise anything). Quotes in the order's currency first; ties
    go to the faster service."""
    eligible = [
        quote
        for quote in quotes
        if max_transit_days is None or (quote.transit_days is not None and quote.transit_days <= max_transit_days)
    ]
    if not eligible:
        return None
    return min(
        eligible,
        key=lambda q: (
            q.amount.currency.code != currency,
            q.amount.amount,
            q.transit_days if q.transit_days is not None else 999,
            q.carrier_code,
            q.service_code,
        ),
    )


@dataclass(frozen=True)
class Quotes:
    quotes: list[RateQuote]
    errors: dict[str, str]  # carrier code → why it gave no quotes


def quotes_collect(*, carriers: Iterable[CarrierAccount], request: ShipmentRequest) -> Quotes:
    """Every carrier's quotes; one carrier failing leaves the others' quotes standing."""
    quotes, errors = [], {}
    for carrier in carriers:
        if carrier.kind == CarrierKind.MANUAL:
            continue
        try:
            quotes += carrier_backend(carrier).rates(request)
        except CarrierError as exc:
            errors[carrier.code] = exc.message
    quotes.sort(key=lambda q: (q.amount.currency.code != request.currency, q.amount.amount, q.carrier_code))
    return Quotes(quotes=quotes, errors=errors)


def warehouse_address(warehouse) -> Address:
    return Address(
        name=warehouse.name,
        line1=warehouse.address_line1,
        line2=warehouse.address_line2,
        city=warehouse.city,
        region=warehouse.region,
        postal_code=warehouse.postal_code,
        country=warehouse.country,
    )


def order_address(order: Order) -> Address:
    return Address(
        name=order.ship_name,
        company=order.ship_company,
        line1=order.ship_line1,
        line2=order.ship_line2,
        city=order.ship_city,
        region=order.ship_region,
        postal_code=order.ship_postal_code,
        country=order.ship_country,
        phone=order.ship_phone,
        email=order.customer_email,
    )


def shipment_request(shipment: Shipment) -> ShipmentRequest:
    """What carriers are told about a shipment: its packed parcels, or one estimated
    box when it is not packed yet (labels are often printed with the pick list)."""
    parcels = [
        ParcelSpec(p.weight_grams, p.length_mm, p.width_mm, p.height_mm) for p in shipment.parcels.order_by("pk")
    ]
    if not parcels:
        estimate = estimated_parcel(shipment)
        parcels = [ParcelSpec(estimate.weight_grams, estimate.length_mm, estimate.width_mm, estimate.height_mm)]
    order = shipment.order
    contents: dict[str, int] = {}
    for line in shipment.lines.all():
        contents[line.sku] = contents.get(line.sku, 0) + line.quantity
    return ShipmentRequest(
        reference=f"{order.number}-{shipment.number}",
        from_address=warehouse_address(shipment.warehouse),
        to_address=order_address(order),
        parcels=tuple(parcels),
        currency=order.currency,
        contents=tuple(sorted(contents.items())),
    )


def _shipment_read(*, seller_id: int, shipment_id: int) -> Shipment:
    shipment = (
        Shipment.objects.select_related("order", "warehouse", "carrier")
        .filter(pk=shipment_id, seller_id=seller_id)
        .first()
    )
    if shipment is None:
        raise ShipmentNotFound()
    return shipment


def _carrier(seller_id: int, carrier_id: int) -> CarrierAccount:
    carrier = CarrierAccount.objects.filter(pk=carrier_id, seller_id=seller_id, is_active=True).first()
    if carrier is None:
        raise InvalidShipping(details={"carrier": ["No such active carrier account."]})
    return carrier


def shipment_rates(*, seller_id: int, shipment_id: int) -> Quotes:
    shipment = _shipment_read(seller_id=seller_id, shipment_id=shipment_id)
    carriers = CarrierAccount.objects.filter(seller_id=seller_id, is_active=True).order_by("pk")
    return quotes_collect(carriers=carriers, request=shipment_request(shipment))


def _choose(
    shipment: Shipment, request: ShipmentRequest, *, carrier_id: int | None, service_code: str
) -> tuple[CarrierAccount, str]:
    """The carrier and service to buy: as asked, as chosen at checkout, or the cheapest
    that keeps the promised delivery speed."""
    if carrier_id is not None:
        carrier = _carrier(shipment.seller_id, carrier_id)
    elif shipment.carrier_id:
        carrier = _carrier(shipment.seller_id, shipment.carrier_id)
        service_code = service_code or shipment.service_code
    else:
        carrier = None
    if carrier is not None and (service_code or carrier.kind == CarrierKind.MANUAL):
        return carrier, service_code
    candidates = (
        [carrier]
        if carrier is not None
        else CarrierAccount.objects.filter(seller_id=shipment.seller_id, is_active=True).order_by("pk")
    )
    quotes = quotes_collect(carriers=candidates, request=request)
    best = rate_shop(quotes.quotes, max_transit_days=shipment.max_transit_days, currency=request.currency)
    if best is None:
        raise NoRateAvailable(details={"max_transit_days": shipment.max_transit_days, "errors": quotes.errors})
    chosen = carrier or next(c for c in candidates if c.pk == best.carrier_id)
    return chosen, best.service_code


def _ensure_label_free(shipment: Shipment, order: Order) -> None:
    if order.lifecycle == Lifecycle.CANCELLED:
        # Its shipments are cancelled once the relay reaches the cancellation; until
        # then no postage is paid for a parcel that will not leave.
        raise LabelConflict(
            f"Order #{order.number} is cancelled: shipment {shipment.number} gets no label.",
            details={"lifecycle": order.lifecycle},
        )
    if shipment.status not in LABEL_STATUSES:
        raise LabelConflict(
            f"Shipment {shipment.number} is {shipment.status}: its label can no longer change.",
            details={"status": shipment.status},
        )
    if shipment.tracking_number:
        raise LabelConflict(
            f"Shipment {shipment.number} already has label {shipment.tracking_number}; void it first.",
            details={"tracking_number": shipment.tracking_number},
        )


def shipment_label_buy(
    *,
    seller_id: int,
    shipment_id: int,
    actor: Actor,
    carrier_id: int | None = None,
    service_code: str = "",
    tracking_number: str = "",
) -> Shipment:
    """Buy a label (or, with the manual carrier, record the typed tracking number)."""
    shipment = _shipment_read(seller_id=seller_id, shipment_id=shipment_id)
    _ensure_label_free(shipment, shipment.order)
    fingerprint = label_fingerprint(shipment.order, shipment)
    request = shipment_request(shipment)
    carrier, service_code = _choose(shipment, request, carrier_id=carrier_id, service_code=service_code)
    backend = carrier_backend(carrier)
    purchase = backend.buy_label(request, service_code=service_code, tracking_number=tracking_number)
    try:
        return _label_store(
            seller_id=seller_id,
            shipment_id=shipment_id,
            carrier=carrier,
            purchase=purchase,
            fingerprint=fingerprint,
            actor=actor,
        )
    except LabelConflict:
        # Someone else labelled or shipped it meanwhile: do not pay twice.
        try:
            backend.void_label(_ref(purchase))
        except CarrierError:
            logger.exception("Could not void duplicate label %s", purchase.tracking_number)
        raise


def _ref(purchase: LabelPurchase) -> LabelRef:
    return LabelRef(
        tracking_number=purchase.tracking_number,
        provider_shipment_id=purchase.provider_shipment_id,
        provider_tracker_id=purchase.provider_tracker_id,
    )


def _label_store(
    *,
    seller_id: int,
    shipment_id: int,
    carrier: CarrierAccount,
    purchase: LabelPurchase,
    fingerprint: str,
    actor: Actor,
) -> Shipment:
    """Keep the label with what it was bought for (``fingerprint``, taken before the
    purchase): if the order changed meanwhile, shipping will refuse it."""
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        _ensure_label_free(shipment, order)
        now = timezone.now()
        shipment.carrier = carrier
        shipment.service_code = purchase.service_code
        shipment.service_name = purchase.service_name[:100]
        shipment.transit_days = purchase.transit_days
        shipment.postage = purchase.postage
        shipment.tracking_number = purchase.tracking_number
        shipment.tracking_url = purchase.tracking_url
        shipment.label_pdf = purchase.label_pdf
        shipment.label_url = purchase.label_url
        shipment.provider_shipment_id = purchase.provider_shipment_id
        shipment.provider_tracker_id = purchase.provider_tracker_id
        shipment.label_bought_at = now
        shipment.label_fingerprint = fingerprint
        shipment.save()
        TrackingEvent.objects.get_or_create(
            shipment=shipment,
            occurred_at=now,
            status=TrackingStatus.PRE_TRANSIT,
            message=f"Label created: {purchase.service_name}"[:255],
            defaults={"source": TrackingSource.LABEL},
        )
        order_shipment_event(
            order=order,
            type=EventType.SHIPMENT_STATUS_CHANGED,
            shipment=shipment_ref(shipment),
            actor=actor,
            data={"label": "bought", "postage": str(purchase.postage.amount) if purchase.postage else None},
        )
    return shipment


def shipment_label_void(*, seller_id: int, shipment_id: int, actor: Actor) -> Shipment:
    """Void the label (the carrier refunds it) and free the shipment for another one.
    Only before the parcel has shipped, or when its order was cancelled."""
    # Marked first, under the lock, so the parcel cannot ship on a label the carrier is
    # refunding; the carrier is called with no lock held; a failed void unmarks it.
    with transaction.atomic():
        _order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        _ensure_voidable(shipment)
        kept_fingerprint = shipment.label_fingerprint
        Shipment.objects.filter(pk=shipment.pk).update(label_fingerprint=LABEL_VOIDING)
    try:
        carrier_backend(shipment.carrier).void_label(
            LabelRef(
                tracking_number=shipment.tracking_number,
                provider_shipment_id=shipment.provider_shipment_id,
                provider_tracker_id=shipment.provider_tracker_id,
            )
        )
    except Exception:
        Shipment.objects.filter(pk=shipment.pk, label_fingerprint=LABEL_VOIDING).update(
            label_fingerprint=kept_fingerprint
        )
        raise
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        _ensure_voidable(shipment)
        voided = shipment.tracking_number
        for name in ("service_name", "tracking_number", "tracking_url", "label_url", "provider_shipment_id"):
            setattr(shipment, name, "")
        shipment.provider_tracker_id = ""
        shipment.label_pdf = None
        shipment.postage = None
        shipment.transit_days = None
        shipment.label_bought_at = None
        shipment.label_fingerprint = ""
        shipment.save()
        order_shipment_event(
            order=order,
            type=EventType.SHIPMENT_STATUS_CHANGED,
            shipment=shipment_ref(shipment),
            actor=actor,
            data={"label": "voided", "voided_tracking_number": voided},
        )
    return shipment


def _ensure_voidable(shipment: Shipment) -> None:
    if not shipment.tracking_number:
        raise LabelConflict(f"Shipment {shipment.number} has no label to void.")
    if shipment.status not in LABEL_STATUSES | {ShipmentStatus.CANCELLED}:
        raise LabelConflict(
            f"Shipment {shipment.number} has shipped; its label can no longer be voided.",
            details={"status": shipment.status},
        )
