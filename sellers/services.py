import hashlib
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sellers.caches import api_keys_cache
from sellers.exceptions import ApiKeyRevoked
from sellers.models import STOREFRONT_SCOPES, ApiKey, Seller, SellerSequence, StaffMembership

API_KEY_PREFIX = "wb_"


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def api_key_create(
    *, seller: Seller, name: str, scopes: list[str] | None = None, created_by_id: int | None = None
) -> IssuedApiKey:
    prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        seller=seller,
        name=name,
        prefix=prefix,
        digest=api_key_digest(raw_key),
        scopes=list(scopes) if scopes is not None else list(STOREFRONT_SCOPES),
        created_by_id=created_by_id,
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    updated = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise ApiKeyRevoked()
    # The update sends no signal: this process forgets the key now, the others
    # within WAYBILL_CONFIG_CACHE_SECONDS.
    api_keys_cache.clear()
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def sequence_next(*, seller_id: int, name: str) -> int:
    """Take the next number of a per-seller sequence, in the caller's transaction.

    One ``UPDATE … RETURNING`` (PostgreSQL and SQLite ≥ 3.35 both have it): the row lock
    it takes is held until the caller commits, which is what makes the sequence
    gap-free, so callers take the number as late in their transaction as they can.
    """
    table = SellerSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_value = last_value + 1 WHERE seller_id = %s AND name = %s RETURNING last_value",
            [seller_id, name],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    # First use of this sequence: create it. A concurrent first use loses the unique
    # race inside its savepoint and retries the update.
    try:
        with transaction.atomic():
            SellerSequence.objects.create(seller_id=seller_id, name=name, last_value=1)
    except IntegrityError:
        return sequence_next(seller_id=seller_id, name=name)
    return 1


def sequence_next_cte(*, seller_id: int, name: str) -> tuple[tuple[str, list], str]:
    """``sequence_next`` folded into the statement that uses the number, on PostgreSQL:
    a ``WITH`` clause (``taken_number AS (…)`` and its parameters) and the SQL
    expression that is the number, for ``core.fastsql.insert_rows``. It saves the writer
    a round trip; the row lock is the same, taken at that statement. An upsert, so a
    sequence's first use needs nothing more. PostgreSQL only (SQLite has no INSERT
    inside WITH)."""
    table = SellerSequence._meta.db_table
    sql = (
        f"taken_number AS (INSERT INTO {table} (seller_id, name, last_value) VALUES (%s, %s, 1) "
        f"ON CONFLICT (seller_id, name) DO UPDATE SET last_value = {table}.last_value + 1 RETURNING last_value)"
    )
    return (sql, [seller_id, name]), "(SELECT last_value FROM taken_number)"


def membership_grant(*, seller: Seller, user, role: str) -> StaffMembership:
    membership, _ = StaffMembership.objects.update_or_create(user=user, seller=seller, defaults={"role": role})
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return membership
