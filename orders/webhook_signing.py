"""Signing outbound webhooks, and the check a receiver runs. Standard library only, so a
storefront developer can copy ``webhook_signature_verify`` into their own code.

The ``Waybill-Signature`` header is ``t=<unix seconds>,v1=<hex>``, where ``<hex>`` is
HMAC-SHA256, keyed with the subscription's secret, of ``"<t>.<raw request body>"``.
Signing the timestamp with the body lets a receiver refuse a captured request replayed
later: it accepts only a timestamp within ``tolerance`` seconds of its own clock.
"""

import hashlib
import hmac
import time

SIGNATURE_VERSION = "v1"


def webhook_signature_compute(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},{SIGNATURE_VERSION}={webhook_signature_compute(secret, timestamp, body)}"


def webhook_signature_verify(
    secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when ``header`` (the ``Waybill-Signature`` value) signs exactly ``body`` (the
    raw bytes received, before any JSON parsing) with ``secret``, and its timestamp is
    within ``tolerance`` seconds of ``now`` (default: the current time)."""
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SIGNATURE_VERSION:
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = webhook_signature_compute(secret, timestamp, body)
    # compare_digest takes as long whatever the first differing byte: no timing leak.
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
