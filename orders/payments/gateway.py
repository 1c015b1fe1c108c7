"""The one module that talks to Stripe, through the official library. It speaks in
minor units and plain snapshots, translates Stripe's errors into ours, and sends an
idempotency key with every write. Never call it inside a transaction holding locks."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import stripe
from django.conf import settings

from orders.payments.accounts import StripeCredentials
from orders.payments.exceptions import (
    PaymentDeclined,
    PaymentProviderRefused,
    PaymentProviderUnavailable,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntentSnapshot:
    id: str
    status: str
    capture_method: str
    amount: int
    amount_capturable: int
    amount_received: int
    currency: str  # upper case, as Waybill writes it
    metadata: dict
    latest_charge: str
    last_error: str
    observed_at: datetime

    @classmethod
    def of(cls, intent) -> "IntentSnapshot":
        data = intent if isinstance(intent, dict) else intent.to_dict()
        error = data.get("last_payment_error") or {}
        charge = data.get("latest_charge") or ""
        return cls(
            id=data["id"],
            status=data["status"],
            capture_method=data.get("capture_method") or "",
            amount=int(data["amount"]),
            amount_capturable=int(data.get("amount_capturable") or 0),
            amount_received=int(data.get("amount_received") or 0),
            currency=str(data["currency"]).upper(),
            metadata=dict(data.get("metadata") or {}),
            latest_charge=charge if isinstance(charge, str) else charge.get("id", ""),
            last_error=(error.get("message") or "")[:255],
            observed_at=datetime.now(UTC),
        )


@dataclass(frozen=True)
class RefundSnapshot:
    id: str
    status: str
    amount: int
    currency: str
    failure_reason: str


@cache
def _client(api_key: str, api_base: str, timeout: float, retries: int) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client(account: StripeCredentials) -> stripe.StripeClient:
    """One client per key, built when first needed (tests point the base at a local server)."""
    return _client(
        account.api_key,
        settings.STRIPE_API_BASE,
        settings.STRIPE_TIMEOUT_SECONDS,
        settings.STRIPE_MAX_NETWORK_RETRIES,
    )


def _translated(exc: stripe.StripeError) -> Exception:
    details = {"stripe_code": exc.code or "", "stripe_message": exc.user_message or str(exc)}
    if isinstance(exc, stripe.CardError):
        return PaymentDeclined(exc.user_message or None, details=details)
    if isinstance(exc, (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)):
        logger.warning("Stripe unavailable: %r", exc)
        return PaymentProviderUnavailable(details=details)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        logger.error("Stripe refused Waybill's credentials: %r", exc)
        return PaymentProviderUnavailable("Payments are misconfigured; the seller has been told.", details=details)
    return PaymentProviderRefused(f"Stripe refused: {exc.user_message or exc}", details=details)


def intent_retrieve(intent_id: str, *, account: StripeCredentials) -> IntentSnapshot | None:
    """The PaymentIntent as Stripe has it now; None if Stripe does not know it."""
    try:
        return IntentSnapshot.of(client(account).v1.payment_intents.retrieve(intent_id))
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            return None
        raise _translated(exc) from exc
    except stripe.StripeError as exc:
        raise _translated(exc) from exc


def intent_capture(intent_id: str, *, account: StripeCredentials, amount: int, idempotency_key: str) -> IntentSnapshot:
    try:
        intent = client(account).v1.payment_intents.capture(
            intent_id, params={"amount_to_capture": amount}, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as exc:
        raise _translated(exc) from exc
    return IntentSnapshot.of(intent)


def intent_cancel(intent_id: str, *, account: StripeCredentials, idempotency_key: str) -> IntentSnapshot:
    try:
        intent = client(account).v1.payment_intents.cancel(
            intent_id,
            params={"cancellation_reason": "requested_by_customer"},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise _translated(exc) from exc
    return IntentSnapshot.of(intent)


STRIPE_REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


def refund_create(
    intent_id: str,
    *,
    account: StripeCredentials,
    amount: int,
    reason: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> RefundSnapshot:
    """Stripe takes one of three reason codes; Waybill's own words go in the metadata."""
    params: dict = {"payment_intent": intent_id, "amount": amount, "metadata": {**metadata, "reason": reason[:500]}}
    if reason in STRIPE_REFUND_REASONS:
        params["reason"] = reason
    try:
        refund = client(account).v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise _translated(exc) from exc
    return RefundSnapshot(
        id=refund.id,
        status=refund.status or "pending",
        amount=int(refund.amount),
        currency=str(refund.currency).upper(),
        failure_reason=getattr(refund, "failure_reason", None) or "",
    )


def event_verify(payload: bytes, signature: str, *, account: StripeCredentials) -> None:
    """Check the ``Stripe-Signature`` of a webhook body (and its age) with the library,
    against the signing secret of the account the endpoint belongs to."""
    try:
        stripe.Webhook.construct_event(
            payload, signature, account.webhook_secret, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        raise WebhookSignatureInvalid(details={"reason": str(exc.user_message or exc)}) from exc
    except ValueError as exc:
        raise WebhookPayloadInvalid() from exc
