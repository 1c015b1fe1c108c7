"""A shipment's life in the warehouse: planned from the order's allocations (one per
warehouse), picked, scanned into the box, packed and shipped. Every service locks the
order first, then the shipment, and writes the shipment, the order and the order's
events in one transaction."""

import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.actor import Actor
from core.outbox import outbox_record
from inventory.models import Warehouse, Weekday
from inventory.services import StockLine, stock_ship
from orders.locks import order_lock
from orders.models import Allocation, DeliveryMethod, EventType, IdempotencyRecord, Order
from orders.services.fulfillment import (
    FULFILLABLE,
    ShippedLine,
    kit_units,
    line_units,
    order_fulfillment_start,
    order_lines_ship,
    order_shipment_delivered,
    order_shipment_event,
)
from orders.services.idempotency import IdempotentResponse, idempotency_record_find, idempotent_replay
from orders.status import Lifecycle
from sellers.services import sequence_next
from shipping.exceptions import InvalidShipping, NothingToPick, PackingIncomplete, ScanRefused
from shipping.locks import shipment_lock, shipments_for_update
from shipping.models import CarrierAccount, Parcel, PickWave, Shipment, ShipmentLine
from shipping.services.common import (
    LABEL_VOIDING,
    ensure_shipment_transition,
    label_fingerprint,
    lock_order_and_shipment,
    shipment_ref,
)
from shipping.status import OPEN_STATUSES, SHIPPED_STATUSES, ShipmentStatus, WaveStatus
from shipping.tasks import label_void_task

SHIPMENT_SEQUENCE = "shipment"
# Shipments whose lines may still be rebuilt from the allocations: nobody has touched them.
REBUILDABLE = frozenset({ShipmentStatus.PENDING})


def ship_by_for(*, warehouse: Warehouse, seller_timezone: str, at: datetime) -> date:
    """The day a shipment must leave: today, or the next day once the warehouse's
    cut-off has passed (the seller's local time), moved on to the warehouse's next
    shipping day (an order of Friday evening at a Monday-to-Friday warehouse is due on
    Monday, not late on Monday for a Saturday it could not make)."""
    local = timezone.localtime(at, zoneinfo.ZoneInfo(seller_timezone or "UTC"))
    day = local.date()
    if warehouse.cutoff_time and local.time() > warehouse.cutoff_time:
        day += timedelta(days=1)
    shipping_days = set(warehouse.shipping_days or Weekday.values)
    for _ in range(7):
        if day.isoweekday() in shipping_days:
            break
        day += timedelta(days=1)
    return day


def _checkout_choice(order: Order, carriers: dict[str, CarrierAccount]) -> dict:
    """The carrier, service and speed the customer chose at checkout, if the storefront
    passed them in ``metadata.shipping`` (see the rate quote endpoint)."""
    choice = (order.metadata or {}).get("shipping") or {}
    if not isinstance(choice, dict):
        return {}
    result = {}
    carrier = carriers.get(str(choice.get("carrier", "")))
    if carrier is not None:
        result["carrier"] = carrier
        result["service_code"] = str(choice.get("service", ""))[:64]
    days = choice.get("max_transit_days")
    if isinstance(days, int) and 0 < days < 100:
        result["max_transit_days"] = days
    return result


def shipments_sync(*, seller_id: int, order_id: int, actor: Actor) -> list[Shipment]:
    """Make the order's untouched (pending) shipments match its allocations: one per
    warehouse holding units that no picked shipment already carries. Safe to run any
    number of times; a pending shipment left with nothing is cancelled. A cancelled or
    held order's pending shipments are cancelled. Returns the open shipments."""
    with transaction.atomic():
        order = order_lock(seller_id=seller_id, order_id=order_id)
        shipments = list(shipments_for_update().filter(order=order, status__in=OPEN_STATUSES))
        if order.lifecycle == Lifecycle.CANCELLED:
            # Its stock was released: nothing of it may leave. Bought labels are voided
            # after commit (a network call).
            _cancel(shipments, order=order, actor=actor)
            return []
        # Even a held order's picked box holds only what the order still holds.
        shipments = _cut_to_allocations(order, shipments, actor=actor)
        if order.lifecycle not in FULFILLABLE:
            return shipments  # held: otherwise left as they are until released
        wanted = _unclaimed(order, shipments)
        pending = {s.warehouse_id: s for s in shipments if s.status in REBUILDABLE}
        kept = [s for s in shipments if s.status not in REBUILDABLE]
        carriers = {c.code: c for c in CarrierAccount.objects.filter(seller_id=seller_id, is_active=True)}
        choice = _checkout_choice(order, carriers)
        for warehouse_id, allocations in sorted(wanted.items()):
            shipment = pending.pop(warehouse_id, None)
            if shipment is None:
                shipment = _create(order, allocations[0].stock.warehouse, choice=choice, actor=actor)
            _set_lines(shipment, allocations)
            kept.append(shipment)
        _cancel(list(pending.values()), order=order, actor=actor)
        _void_stale_labels(order, kept)
    return kept


def _cut_to_allocations(order: Order, shipments: list[Shipment], *, actor: Actor) -> list[Shipment]:
    """A picked or packed shipment carries only units the order still holds. A stock
    count that found units missing can take them off an order being picked (see
    ``orders.services.allocation.stock_shortfall_reconcile``): its newest shipments'
    lines are cut to match, a packed box is opened again to take them out (its label
    no longer matches and is voided), and a shipment left with nothing is cancelled.
    Returns the shipments still open."""
    touched = {s.pk: s for s in shipments if s.status not in REBUILDABLE}
    if not touched:
        return shipments
    held: dict[tuple[int, int], int] = defaultdict(int)
    for line_id, stock_id, quantity in Allocation.objects.filter(line__order=order).values_list(
        "line_id", "stock_id", "quantity"
    ):
        held[(line_id, stock_id)] += quantity
    lines = list(ShipmentLine.objects.filter(shipment_id__in=touched).order_by("-shipment_id", "-pk"))
    carried: dict[tuple[int, int], int] = defaultdict(int)
    for line in lines:
        carried[(line.order_line_id, line.stock_id)] += line.quantity
    cut: dict[int, list[dict]] = defaultdict(list)
    for line in lines:
        key = (line.order_line_id, line.stock_id)
        excess = min(carried[key] - held[key], line.quantity)
        if excess <= 0:
            continue
        carried[key] -= excess
        line.quantity -= excess
        if line.quantity:
            line.quantity_packed = min(line.quantity_packed, line.quantity)
            line.save(update_fields=["quantity", "quantity_packed"])
        else:
            line.delete()
        cut[line.shipment_id].append({"sku": line.sku, "quantity": excess})
    if not cut:
        return shipments
    emptied = []
    for shipment_id, removed in sorted(cut.items()):
        shipment = touched[shipment_id]
        if not shipment.lines.exists():
            emptied.append(shipment)
            continue
        before = shipment.status
        if before == ShipmentStatus.PACKED:
            ensure_shipment_transition(shipment, ShipmentStatus.PICKING)
            shipment.status = ShipmentStatus.PICKING
            shipment.save(update_fields=["status", "updated_at"])
            _wave_refresh(shipment.wave_id)
        order_shipment_event(
            order=order,
            type=EventType.SHIPMENT_STATUS_CHANGED,
            shipment=shipment_ref(shipment),
            actor=actor,
            data={"before": before, "after": shipment.status, "removed": removed, "why": "stock short"},
        )
    _cancel(emptied, order=order, actor=actor)
    return [s for s in shipments if s not in emptied]


def _void_stale_labels(order: Order, shipments: list[Shipment]) -> None:
    """A label bought before the order's address or the shipment's contents changed
    would send the wrong parcel: void it after commit (shipping refuses it meanwhile)."""
    for shipment in shipments:
        if (
            shipment.tracking_number
            and shipment.label_fingerprint not in ("", LABEL_VOIDING)
            and shipment.label_fingerprint != label_fingerprint(order, shipment)
        ):
            transaction.on_commit(partial(label_void_task.delay, shipment_id=shipment.pk), robust=True)


@dataclass(frozen=True)
class _Claim:
    allocation: Allocation
    quantity: int

    @property
    def stock(self):
        return self.allocation.stock


def _unclaimed(order: Order, shipments: list[Shipment]) -> dict[int, list[_Claim]]:
    """Allocated units not on a picked or packed shipment, per warehouse."""
    claimed: dict[tuple[int, int], int] = defaultdict(int)
    touched = [s.pk for s in shipments if s.status not in REBUILDABLE]
    for line_id, stock_id, quantity in ShipmentLine.objects.filter(shipment_id__in=touched).values_list(
        "order_line_id", "stock_id", "quantity"
    ):
        claimed[(line_id, stock_id)] += quantity
    allocations = (
        Allocation.objects.filter(line__order=order)
        .select_related("stock__product", "stock__warehouse", "line")
        .order_by("line__position", "pk")
    )
    wanted: dict[int, list[_Claim]] = defaultdict(list)
    for allocation in allocations:
        left = allocation.quantity - claimed[(allocation.line_id, allocation.stock_id)]
        if left > 0:
            wanted[allocation.stock.warehouse_id].append(_Claim(allocation, left))
    return wanted


def _create(order: Order, warehouse: Warehouse, *, choice: dict, actor: Actor) -> Shipment:
    shipment = Shipment.objects.create(
        seller_id=order.seller_id,
        order=order,
        number=sequence_next(seller_id=order.seller_id, name=SHIPMENT_SEQUENCE),
        warehouse=warehouse,
        ship_by=ship_by_for(
            warehouse=warehouse,
            seller_timezone=order.seller.timezone,
            at=order.confirmed_at or timezone.now(),
        ),
        carrier=choice.get("carrier"),
        service_code=choice.get("service_code", ""),
        max_transit_days=choice.get("max_transit_days"),
    )
    order_shipment_event(order=order, type=EventType.SHIPMENT_CREATED, shipment=shipment_ref(shipment), actor=actor)
    return shipment


def _set_lines(shipment: Shipment, claims: list[_Claim]) -> None:
    current = {(line.order_line_id, line.stock_id): line.quantity for line in shipment.lines.all()}
    target = {(c.allocation.line_id, c.allocation.stock_id): c.quantity for c in claims}
    if current == target:
        return
    shipment.lines.all().delete()
    ShipmentLine.objects.bulk_create(
        ShipmentLine(
            shipment=shipment,
            order_line_id=claim.allocation.line_id,
            stock=claim.stock,
            product=claim.stock.product,
            sku=claim.stock.product.sku,
            name=claim.stock.product.name,
            barcode=claim.stock.product.barcode,
            bin_location=claim.stock.bin_location,
            quantity=claim.quantity,
        )
        for claim in claims
    )


def _cancel(shipments: list[Shipment], *, order: Order, actor: Actor) -> None:
    for shipment in shipments:
        before = shipment.status
        shipment.status = ShipmentStatus.CANCELLED
        shipment.save(update_fields=["status", "updated_at"])
        order_shipment_event(
            order=order,
            type=EventType.SHIPMENT_STATUS_CHANGED,
            shipment=shipment_ref(shipment),
            actor=actor,
            data={"before": before, "after": ShipmentStatus.CANCELLED},
        )
        if shipment.tracking_number:
            transaction.on_commit(partial(label_void_task.delay, shipment_id=shipment.pk), robust=True)
    # Waves locked in one order (by id), so two cancellations touching the same waves
    # cannot deadlock.
    for wave_id in sorted({s.wave_id for s in shipments if s.wave_id is not None}):
        _wave_refresh(wave_id)


def shipment_pick_start(*, seller_id: int, shipment_id: int, actor: Actor, wave_id: int | None = None) -> Shipment:
    """A picker takes the shipment: pending → picking, and its order moves to
    in_fulfillment (re-routing leaves its allocations alone from now on)."""
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        return start_picking(order, shipment, actor=actor, wave_id=wave_id)


def start_picking(order: Order, shipment: Shipment, *, actor: Actor, wave_id: int | None = None) -> Shipment:
    """Inside the caller's transaction, with the order and the shipment locked."""
    ensure_shipment_transition(shipment, ShipmentStatus.PICKING)
    if shipment.status in REBUILDABLE:
        # The order may have changed since the shipment was planned (a line cancelled,
        # units moved to another warehouse), and planning catches up only after that
        # change commits: a picker who is quicker must pick what is ordered now.
        shipments_sync(seller_id=order.seller_id, order_id=order.pk, actor=actor)
        shipment.refresh_from_db()
        if shipment.status == ShipmentStatus.CANCELLED:
            raise NothingToPick(details={"shipment": shipment.number})
    if not shipment.lines.exists():
        raise InvalidShipping(f"Shipment {shipment.number} has nothing to pick.")
    shipment.status = ShipmentStatus.PICKING
    shipment.picking_started_at = timezone.now()
    reopened = wave_id is None and shipment.wave_id is not None  # a packed box opened again
    shipment.wave_id = wave_id or shipment.wave_id
    shipment.save(update_fields=["status", "picking_started_at", "wave", "updated_at"])
    if reopened:
        _wave_refresh(shipment.wave_id)
    order_fulfillment_start(order=order, shipment=shipment_ref(shipment), actor=actor)
    return shipment


def _wave_refresh(wave_id: int | None) -> None:
    """A wave is done once none of its shipments is still to pick or being picked
    (packed, shipped or cancelled); a box opened again reopens it. The wave's row is
    locked first, so when its last two shipments are packed at once the second to take
    the lock sees the first packed."""
    if wave_id is None:
        return
    wave = PickWave.objects.select_for_update().get(pk=wave_id)
    picking = Shipment.objects.filter(
        wave_id=wave_id, status__in=(ShipmentStatus.PENDING, ShipmentStatus.PICKING)
    ).exists()
    status = WaveStatus.OPEN if picking else WaveStatus.DONE
    if wave.status != status:
        wave.status = status
        wave.save(update_fields=["status", "updated_at"])


@dataclass(frozen=True)
class ScanResult:
    line: ShipmentLine  # the last line the scan counted on
    complete: bool  # every line of the shipment is fully scanned
    scanned: int  # of this product on the whole shipment, this scan included
    needed: int  # of this product on the whole shipment


def shipment_scan(*, seller_id: int, shipment_id: int, code: str, quantity: int = 1) -> ScanResult:
    """A packer scans (or types) a barcode or SKU. An item that is not on the shipment,
    or one more than it needs, is refused and nothing is counted. A product on several
    lines (sold alone and in a kit) is counted on them in turn, so "3 × CANDLE" fills
    a line of 2 and a line of 1."""
    code = code.strip()
    if not code:
        raise ScanRefused("Scan a barcode or type a SKU.", details={"code": ["This field is required."]})
    if quantity < 1:
        raise ScanRefused("The quantity must be at least 1.", details={"quantity": [str(quantity)]})
    with transaction.atomic():
        shipment = shipment_lock(seller_id=seller_id, shipment_id=shipment_id)
        if shipment.status != ShipmentStatus.PICKING:
            raise ScanRefused(
                f"Shipment {shipment.number} is {shipment.status}; only a shipment being picked is packed.",
                details={"status": shipment.status},
            )
        lines = list(shipment.lines.select_for_update().order_by("pk"))
        matching = [line for line in lines if code.upper() in (line.barcode.upper(), line.sku.upper())]
        if not matching:
            raise ScanRefused(
                f"{code} is not in shipment {shipment.number}.", details={"code": [code], "expected": _left(lines)}
            )
        needed = sum(line.quantity for line in matching)
        if sum(line.quantity - line.quantity_packed for line in matching) < quantity:
            raise ScanRefused(
                f"Too many: shipment {shipment.number} needs {needed} of {matching[0].sku} in all.",
                details={"code": [code], "expected": _left(lines)},
            )
        left = quantity
        for line in matching:
            counted = min(left, line.quantity - line.quantity_packed)
            if counted:
                ShipmentLine.objects.filter(pk=line.pk).update(quantity_packed=F("quantity_packed") + counted)
                line.quantity_packed += counted
                left -= counted
                last = line
            if not left:
                break
        complete = all(each.quantity_packed == each.quantity for each in lines)
    scanned = sum(line.quantity_packed for line in matching)
    return ScanResult(line=last, complete=complete, scanned=scanned, needed=needed)


def shipment_scan_idempotent(
    *,
    seller_id: int,
    shipment_id: int,
    code: str,
    quantity: int,
    key: str,
    fingerprint: str,
    render: Callable[[ScanResult], dict],
) -> IdempotentResponse:
    """A scan sent with an ``Idempotency-Key``: a handheld that resends after a timeout
    gets the first answer, and nothing is counted twice. Scans of one shipment queue on
    its row lock, so a duplicate sent at once waits for the first and finds its record;
    a refused scan is not kept (sent again, it is tried again)."""
    try:
        with transaction.atomic():
            shipment = shipment_lock(seller_id=seller_id, shipment_id=shipment_id)
            record, _expired = idempotency_record_find(seller_id, key)
            if record is not None:
                return idempotent_replay(record, fingerprint)
            body = render(shipment_scan(seller_id=seller_id, shipment_id=shipment_id, code=code, quantity=quantity))
            IdempotencyRecord.objects.create(
                seller_id=seller_id,
                key=key,
                fingerprint=fingerprint,
                order_id=shipment.order_id,
                response_status=200,
                response_body=body,
            )
    except IntegrityError:
        # The key was taken at the same moment by a request for another shipment (or
        # an order), whose record now answers: this request, another one, is refused.
        record, _expired = idempotency_record_find(seller_id, key)
        if record is None:
            raise
        return idempotent_replay(record, fingerprint)
    return IdempotentResponse(status=200, body=body, replayed=False)


def _left(lines: list[ShipmentLine]) -> dict[str, int]:
    left: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.quantity > line.quantity_packed:
            left[line.sku] += line.quantity - line.quantity_packed
    return dict(left)


@dataclass(frozen=True, slots=True)
class ParcelInput:
    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


def estimated_parcel(shipment: Shipment) -> ParcelInput:
    """One box holding everything: the products' weights, the largest product's size."""
    lines = list(shipment.lines.select_related("product"))
    weight = sum(line.product.weight_grams * line.quantity for line in lines)
    biggest = max(lines, key=lambda line: line.product.length_mm * line.product.width_mm * line.product.height_mm)
    return ParcelInput(
        weight_grams=max(weight, 1),
        length_mm=biggest.product.length_mm,
        width_mm=biggest.product.width_mm,
        height_mm=biggest.product.height_mm,
    )


def shipment_pack(
    *, seller_id: int, shipment_id: int, actor: Actor, parcels: list[ParcelInput] | None = None
) -> Shipment:
    """Close the box: refused unless every unit was scanned in. The parcels (weight,
    size) are recorded; without any, one box is estimated from the products."""
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        ensure_shipment_transition(shipment, ShipmentStatus.PACKED)
        lines = list(shipment.lines.all())
        if missing := _left(lines):
            raise PackingIncomplete(
                f"Shipment {shipment.number} is missing scans: "
                + ", ".join(f"{qty} × {sku}" for sku, qty in sorted(missing.items())),
                details={"missing": missing},
            )
        parcels = parcels or [estimated_parcel(shipment)]
        if any(parcel.weight_grams <= 0 for parcel in parcels):
            raise InvalidShipping(details={"parcels": ["Every parcel needs a weight above 0 g."]})
        shipment.parcels.all().delete()
        Parcel.objects.bulk_create(
            Parcel(
                shipment=shipment,
                weight_grams=p.weight_grams,
                length_mm=p.length_mm,
                width_mm=p.width_mm,
                height_mm=p.height_mm,
            )
            for p in parcels
        )
        shipment.status = ShipmentStatus.PACKED
        shipment.packed_at = timezone.now()
        shipment.save(update_fields=["status", "packed_at", "updated_at"])
        _wave_refresh(shipment.wave_id)
        order_shipment_event(
            order=order,
            type=EventType.SHIPMENT_STATUS_CHANGED,
            shipment=shipment_ref(shipment),
            actor=actor,
            data={"before": ShipmentStatus.PICKING, "after": ShipmentStatus.PACKED, "parcels": len(parcels)},
        )
    return shipment


def shipment_ship(*, seller_id: int, shipment_id: int, actor: Actor) -> Shipment:
    """The carrier has the parcel. Stock leaves the ledger (on hand and allocated drop
    together), the shipped allocations go away, the order's lines are marked shipped,
    and ``shipment.shipped`` is announced (payment capture, the invoice, the customer's
    email and webhooks react to it)."""
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        ensure_shipment_transition(shipment, ShipmentStatus.SHIPPED)
        if order.delivery_method == DeliveryMethod.PICKUP:
            raise InvalidShipping(
                f"Shipment {shipment.number} is collected at the counter, not shipped: mark it collected.",
                details={"delivery_method": ["pickup"]},
            )
        if not shipment.tracking_number:
            raise InvalidShipping(
                f"Shipment {shipment.number} has no label: buy one or type the tracking number first.",
                details={"tracking_number": ["A shipment needs a tracking number to ship."]},
            )
        if shipment.label_fingerprint and shipment.label_fingerprint != label_fingerprint(order, shipment):
            # Bought for another address or other contents, or being voided right now.
            raise InvalidShipping(
                f"Shipment {shipment.number}'s label no longer fits the order (its address or contents changed): "
                "void it and buy a new one.",
                details={"tracking_number": ["The label does not match the shipment any more."]},
            )
        _leave(order, shipment, actor=actor)
    return shipment


def shipment_collect(*, seller_id: int, shipment_id: int, actor: Actor) -> Shipment:
    """The customer collected a click-and-collect order's packed box at the counter:
    it leaves the ledger as a shipment does (so payment capture, the invoice and
    webhooks follow) and is delivered there and then, which starts the return window."""
    with transaction.atomic():
        order, shipment = lock_order_and_shipment(seller_id=seller_id, shipment_id=shipment_id)
        if order.delivery_method != DeliveryMethod.PICKUP:
            raise InvalidShipping(
                f"Order #{order.number} is shipped to the customer, not collected.",
                details={"delivery_method": ["ship"]},
            )
        ensure_shipment_transition(shipment, ShipmentStatus.SHIPPED)
        _leave(order, shipment, actor=actor)
        now = timezone.now()
        shipment.status = ShipmentStatus.DELIVERED
        shipment.delivered_at = now
        shipment.save(update_fields=["status", "delivered_at", "updated_at"])
        others = Shipment.objects.filter(order=order).exclude(pk=shipment.pk).exclude(status=ShipmentStatus.CANCELLED)
        order_shipment_delivered(
            order=order,
            shipment=shipment_ref(shipment),
            delivered_at=now,
            all_delivered=not others.exclude(status=ShipmentStatus.DELIVERED).exists(),
            actor=actor,
        )
    return shipment


def _leave(order: Order, shipment: Shipment, *, actor: Actor) -> None:
    """The units leave the building (order and shipment locked by the caller)."""
    lines = list(shipment.lines.select_related("stock", "order_line__product").order_by("pk"))
    stock_ship(
        lines=[StockLine(line.stock.product_id, line.stock.warehouse_id, line.quantity) for line in lines],
        actor=actor,
        reference=f"shipment:{shipment.number}",
    )
    _release_allocations(lines)
    shipped = _shipped_units(lines)
    shipment.status = ShipmentStatus.SHIPPED
    shipment.shipped_at = timezone.now()
    shipment.save(update_fields=["status", "shipped_at", "updated_at"])
    ref = shipment_ref(shipment)
    order_lines_ship(order=order, lines=shipped, shipment=ref, actor=actor)
    outbox_record(
        topic="shipment.shipped",
        seller_id=shipment.seller_id,
        aggregate_type="shipment",
        aggregate_id=shipment.pk,
        payload={
            "order_id": order.pk,
            "shipment_id": shipment.pk,
            "lines": [{"line_id": s.line_id, "quantity": s.quantity} for s in shipped],
            "shipment": ref,
        },
    )


def _release_allocations(lines: list[ShipmentLine]) -> None:
    """Allocations mean "reserved, not yet shipped": take the shipped units off them
    (the order's lock covers its allocations)."""
    allocations = {
        (a.line_id, a.stock_id): a
        for a in Allocation.objects.filter(
            line_id__in={line.order_line_id for line in lines}, stock_id__in={line.stock_id for line in lines}
        )
    }
    emptied = []
    for line in lines:
        allocation = allocations.get((line.order_line_id, line.stock_id))
        if allocation is None or allocation.quantity < line.quantity:
            raise InvalidShipping(
                f"{line.sku} is no longer reserved for this shipment; sync the order's shipments.",
                details={"sku": line.sku},
            )
        allocation.quantity -= line.quantity
        if allocation.quantity == 0:
            emptied.append(allocation.pk)
        else:
            Allocation.objects.filter(pk=allocation.pk).update(quantity=F("quantity") - line.quantity)
    Allocation.objects.filter(pk__in=emptied).delete()


def _shipped_units(lines: list[ShipmentLine]) -> list[ShippedLine]:
    """Per order line, the units this shipment completes. For a kit line, whole kits
    counted over every component shipped for the line so far, this shipment included:
    a kit whose parts leave from two warehouses is shipped when the second part is."""
    order_lines = {line.order_line_id: line.order_line for line in lines}
    kits = kit_units(list(order_lines.values()))
    picked: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        picked[line.order_line_id][line.product_id] += line.quantity
    if kits:
        earlier = (
            ShipmentLine.objects.filter(order_line_id__in=kits, shipment__status__in=SHIPPED_STATUSES)
            .exclude(shipment_id=lines[0].shipment_id)
            .values_list("order_line_id", "product_id", "quantity")
        )
        for line_id, product_id, quantity in earlier:
            picked[line_id][product_id] += quantity
    units = [
        ShippedLine(
            line_id=line_id,
            quantity=line_units(line_id=line_id, picked=picked[line_id], kits=kits)
            - (order_lines[line_id].quantity_shipped if line_id in kits else 0),
        )
        for line_id in sorted(picked)
        if line_id in order_lines
    ]
    return [unit for unit in units if unit.quantity > 0]
