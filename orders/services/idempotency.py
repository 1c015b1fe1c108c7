"""Exactly-once order creation for clients that retry: ``Idempotency-Key``.

The record of the first successful response is inserted in the order's own
transaction. A retry fails that insert on the unique (seller, key) index (or fails
sooner), rolls back and gets the stored response; a concurrent twin blocks on the
index until the first commits, fails the insert, and replays;
if the first attempt failed and rolled back, the retry simply runs. Failed requests are
not stored: retrying a refused order runs it again (stock may have arrived meanwhile).
"""

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError
from django.utils import timezone

from core.actor import Actor
from core.exceptions import ApplicationError
from core.fastsql import insert_rows, select_instances
from orders.exceptions import IdempotencyKeyReused
from orders.models import IdempotencyRecord, Order
from orders.services.inputs import OrderInput
from orders.services.placement import order_place
from sellers.models import Seller


@dataclass(frozen=True)
class IdempotentResponse:
    status: int
    body: dict
    replayed: bool


def request_fingerprint(*, method: str, path: str, data) -> str:
    """Same method, path and JSON content → same fingerprint, whatever the key order
    or whitespace of the body."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def idempotent_replay(record: IdempotencyRecord, fingerprint: str) -> IdempotentResponse:
    """The stored response, if the request is the one it answered."""
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(details={"idempotency_key": record.key})
    return IdempotentResponse(status=record.response_status, body=record.response_body, replayed=True)


def idempotency_record_find(seller_id: int, key: str) -> tuple[IdempotencyRecord | None, bool]:
    """The live record for the key, and whether an expired one was found instead: that
    one is deleted, so the key can be used again (the purge job also removes them in
    bulk)."""
    found = select_instances(IdempotencyRecord, "seller_id = %s AND key = %s", [seller_id, key])
    record = found[0] if found else None
    if record is not None and record.created_at < timezone.now() - timedelta(hours=settings.WAYBILL_IDEMPOTENCY_HOURS):
        record.delete()
        return None, True
    return record, False


class _ExpiredRecordCleared(Exception):
    """An expired record of the key failed the insert; it is gone now."""


def order_place_idempotent(
    *,
    seller: Seller,
    key: str,
    fingerprint: str,
    data: OrderInput,
    actor: Actor,
    render: Callable[[Order], dict],
    before_write: Sequence[Callable] = (),
    then: Callable[[Order], None] | None = None,
) -> IdempotentResponse:
    """``before_write`` and ``then`` are handed to ``order_place``; ``then`` runs before
    the response is rendered and recorded."""
    rendered: dict = {}

    def remember(order: Order) -> None:
        if then is not None:
            then(order)
        rendered["body"] = render(order)
        insert_rows(
            [
                IdempotencyRecord(
                    seller=seller,
                    key=key,
                    fingerprint=fingerprint,
                    order=order,
                    response_status=201,
                    response_body=rendered["body"],
                )
            ],
            deferred=True,  # with the placement's last writes: a duplicate key fails them all
        )

    def attempt() -> IdempotentResponse:
        try:
            order_place(seller=seller, data=data, actor=actor, then=remember, before_write=before_write)
        except (IntegrityError, ApplicationError) as exc:
            # A concurrent twin may have won while this attempt waited on its locks, or
            # this is a retry: the stored response is the answer. Otherwise the error is
            # this request's own.
            record, expired = idempotency_record_find(seller.pk, key)
            if record is not None:
                return idempotent_replay(record, fingerprint)
            if expired and isinstance(exc, IntegrityError):
                raise _ExpiredRecordCleared from exc
            raise
        return IdempotentResponse(status=201, body=rendered["body"], replayed=False)

    # No lookup first: the first request of a key, by far the most common, would pay a
    # query for nothing. A retry runs the placement, whose record insert then fails on
    # the unique (seller, key) index and rolls everything back, or fails earlier (the
    # stock is gone, the payment intent is in use); either way the stored response is
    # found and replayed. The price: a retry takes the placement's locks before it
    # replays, and a key reused with another body is refused (422) only after that.
    try:
        return attempt()
    except _ExpiredRecordCleared:
        return attempt()


def idempotency_records_purge(*, older_than_hours: int | None = None) -> int:
    hours = older_than_hours if older_than_hours is not None else settings.WAYBILL_IDEMPOTENCY_HOURS
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours)).delete()
    return deleted
