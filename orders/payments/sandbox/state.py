"""What the sandbox remembers and how Stripe's objects change: PaymentIntents with
manual or automatic capture, their charges, refunds, disputes and the events each change
emits. Every object starts from Stripe's own example of that resource (``shapes.json``)
with the fields this flow sets, so the library parses exactly what Stripe sends.

Test cards (Stripe's own test payment methods): ``pm_card_visa`` and any other
``pm_…`` authorize; ``pm_card_chargeDeclined`` and ``pm_card_visa_chargeDeclined`` are
declined.
"""

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable

from orders.payments.sandbox.params import RequestError, shapes

DECLINED_CARDS = frozenset({"pm_card_chargeDeclined", "pm_card_visa_chargeDeclined"})
CANCELLABLE = frozenset(
    {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing"}
)
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
CANCELLATION_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer", "abandoned"})
DISPUTE_REASONS = frozenset(
    {
        "bank_cannot_process",
        "check_returned",
        "credit_not_processed",
        "customer_initiated",
        "debit_not_authorized",
        "duplicate",
        "fraudulent",
        "general",
        "incorrect_account_details",
        "insufficient_funds",
        "product_not_received",
        "product_unacceptable",
        "subscription_canceled",
        "unrecognized",
    }
)
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ALPHABET) for _ in range(24))}"


def example(resource: str) -> dict:
    return copy.deepcopy(shapes()["fixtures"][resource])


def missing(kind: str, object_id: str, param: str) -> RequestError:
    return RequestError(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


class SandboxState:
    """All objects, behind one lock. ``emit`` is called with each new event."""

    def __init__(self, *, emit: Callable[[dict], None], api_version: str):
        self.lock = threading.RLock()
        self.intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.disputes: dict[str, dict] = {}
        self.events: list[dict] = []
        self._emit = emit
        self.api_version = api_version

    # --- events ------------------------------------------------------------------
    def event(self, type: str, obj: dict, *, request: dict | None = None, previous: dict | None = None) -> dict:
        event = example("event")
        event.update(
            id=new_id("evt"),
            type=type,
            created=int(time.time()),
            api_version=self.api_version,
            livemode=False,
            pending_webhooks=1,
            data={"object": copy.deepcopy(obj), **({"previous_attributes": previous} if previous else {})},
            request=request or {"id": None, "idempotency_key": None},
        )
        self.events.append(event)
        self._emit(event)
        return event

    # --- payment intents -----------------------------------------------------------
    def intent_create(self, params: dict, request: dict) -> dict:
        if params["amount"] < 1:
            raise RequestError(400, "Amount must be at least 1.", code="amount_too_small", param="amount")
        intent = example("payment_intent")
        intent_id = new_id("pi")
        intent.update(
            id=intent_id,
            object="payment_intent",
            amount=params["amount"],
            amount_capturable=0,
            amount_received=0,
            currency=str(params["currency"]).lower(),
            capture_method=params.get("capture_method", "automatic"),
            confirmation_method=params.get("confirmation_method", "automatic"),
            client_secret=f"{intent_id}_secret_{new_id('x')[2:]}",
            created=int(time.time()),
            canceled_at=None,
            cancellation_reason=None,
            last_payment_error=None,
            latest_charge=None,
            metadata=params.get("metadata") or {},
            next_action=None,
            payment_method=params.get("payment_method"),
            processing=None,
            description=params.get("description"),
            receipt_email=params.get("receipt_email"),
            transfer_data=None,
            shipping=None,
            payment_method_configuration_details=None,
            managed_payments=None,
            status="requires_confirmation" if params.get("payment_method") else "requires_payment_method",
        )
        with self.lock:
            self.intents[intent_id] = intent
            self.event("payment_intent.created", intent, request=request)
            if params.get("confirm"):
                return self._confirm(intent, params.get("payment_method"), request)
            return intent

    def intent_get(self, intent_id: str) -> dict:
        intent = self.intents.get(intent_id)
        if intent is None:
            raise missing("payment_intent", intent_id, "intent")
        return intent

    def intent_confirm(self, intent_id: str, params: dict, request: dict) -> dict:
        with self.lock:
            intent = self.intent_get(intent_id)
            if intent["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
                raise self._unexpected_state(intent, "confirm")
            if params.get("capture_method"):
                intent["capture_method"] = params["capture_method"]
            return self._confirm(intent, params.get("payment_method") or intent["payment_method"], request)

    def _confirm(self, intent: dict, payment_method: str | None, request: dict) -> dict:
        if not payment_method:
            raise RequestError(
                400,
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
            )
        intent["payment_method"] = payment_method
        charge = self._charge_create(intent, declined=payment_method in DECLINED_CARDS)
        intent["latest_charge"] = charge["id"]
        if charge["status"] == "failed":
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "generic_decline",
                "message": "Your card was declined.",
                "charge": charge["id"],
            }
            self.event("charge.failed", charge, request=request)
            self.event("payment_intent.payment_failed", intent, request=request)
            raise RequestError(
                402,
                "Your card was declined.",
                type="card_error",
                code="card_declined",
                decline_code="generic_decline",
                charge=charge["id"],
                payment_intent=copy.deepcopy(intent),
            )
        intent["last_payment_error"] = None
        self.event("charge.succeeded", charge, request=request)
        if intent["capture_method"] == "manual":
            intent["status"] = "requires_capture"
            intent["amount_capturable"] = intent["amount"]
            self.event("payment_intent.amount_capturable_updated", intent, request=request)
            return intent
        return self._capture(intent, intent["amount"], request)

    def intent_capture(self, intent_id: str, params: dict, request: dict) -> dict:
        with self.lock:
            intent = self.intent_get(intent_id)
            if intent["status"] != "requires_capture":
                raise self._unexpected_state(intent, "capture")
            amount = params.get("amount_to_capture", intent["amount_capturable"])
            if amount < 1 or amount > intent["amount_capturable"]:
                raise RequestError(
                    400,
                    f"The amount to capture ({amount}) must be positive and at most the amount capturable "
                    f"({intent['amount_capturable']}).",
                    code="amount_too_large",
                    param="amount_to_capture",
                )
            if params.get("metadata"):
                intent["metadata"].update(params["metadata"])
            return self._capture(intent, amount, request)

    def _capture(self, intent: dict, amount: int, request: dict) -> dict:
        charge = self.charges[intent["latest_charge"]]
        intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
        charge.update(captured=True, amount_captured=amount)
        self.event("charge.captured", charge, request=request)
        self.event("payment_intent.succeeded", intent, request=request)
        return intent

    def intent_cancel(self, intent_id: str, params: dict, request: dict) -> dict:
        with self.lock:
            intent = self.intent_get(intent_id)
            if intent["status"] not in CANCELLABLE:
                raise self._unexpected_state(intent, "cancel")
            reason = params.get("cancellation_reason")
            if reason is not None and reason not in CANCELLATION_REASONS:
                raise RequestError(400, f"Invalid cancellation_reason: {reason}", param="cancellation_reason")
            intent.update(
                status="canceled", canceled_at=int(time.time()), cancellation_reason=reason, amount_capturable=0
            )
            self.event("payment_intent.canceled", intent, request=request)
            return intent

    @staticmethod
    def _unexpected_state(intent: dict, action: str) -> RequestError:
        done = {"confirm": "confirmed", "capture": "captured", "cancel": "canceled"}[action]
        return RequestError(
            400,
            f"This PaymentIntent could not be {done} because it has a status of {intent['status']}.",
            code="payment_intent_unexpected_state",
            payment_intent=copy.deepcopy(intent),
        )

    # --- charges -----------------------------------------------------------------
    def _charge_create(self, intent: dict, *, declined: bool) -> dict:
        charge = example("charge")
        charge_id = new_id("ch")
        charge.update(
            id=charge_id,
            amount=intent["amount"],
            amount_captured=0,
            amount_refunded=0,
            captured=False,
            created=int(time.time()),
            currency=intent["currency"],
            disputed=False,
            metadata=dict(intent["metadata"]),
            paid=not declined,
            status="failed" if declined else "succeeded",
            failure_code="card_declined" if declined else None,
            failure_message="Your card was declined." if declined else None,
            payment_intent=intent["id"],
            payment_method=intent["payment_method"],
            refunded=False,
            refunds={"object": "list", "data": [], "has_more": False, "url": f"/v1/charges/{charge_id}/refunds"},
            balance_transaction=None,
            receipt_url=None,
            source=None,
            transfer_data=None,
        )
        self.charges[charge_id] = charge
        return charge

    def charge_get(self, charge_id: str) -> dict:
        charge = self.charges.get(charge_id)
        if charge is None:
            raise missing("charge", charge_id, "charge")
        return charge

    # --- refunds -----------------------------------------------------------------
    def refund_create(self, params: dict, request: dict) -> dict:
        with self.lock:
            charge = self._refundable_charge(params)
            remaining = charge["amount_captured"] - charge["amount_refunded"]
            if remaining <= 0:
                raise RequestError(
                    400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded"
                )
            amount = params.get("amount", remaining)
            if amount < 1 or amount > remaining:
                raise RequestError(
                    400,
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})",
                    code="amount_too_large",
                    param="amount",
                )
            reason = params.get("reason")
            if reason is not None and reason not in REFUND_REASONS:
                raise RequestError(400, f"Invalid reason: must be one of {sorted(REFUND_REASONS)}", param="reason")
            refund = example("refund")
            refund.update(
                id=new_id("re"),
                amount=amount,
                charge=charge["id"],
                created=int(time.time()),
                currency=charge["currency"],
                metadata=params.get("metadata") or {},
                payment_intent=charge["payment_intent"],
                reason=reason,
                status="succeeded",
                balance_transaction=None,
                destination_details=None,
                payment_method=charge["payment_method"],
            )
            self.refunds[refund["id"]] = refund
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            charge["refunds"]["data"].insert(0, copy.deepcopy(refund))
            self.event("refund.created", refund, request=request)
            self.event("charge.refunded", charge, request=request, previous=previous)
            return refund

    def _refundable_charge(self, params: dict) -> dict:
        if bool(params.get("payment_intent")) == bool(params.get("charge")):
            raise RequestError(400, "You must pass either a payment_intent or a charge to refund.")
        if params.get("charge"):
            charge = self.charge_get(params["charge"])
        else:
            intent = self.intents.get(params["payment_intent"])
            if intent is None:
                raise missing("payment_intent", params["payment_intent"], "payment_intent")
            if intent["status"] != "succeeded" or not intent["latest_charge"]:
                raise RequestError(
                    400,
                    f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                )
            charge = self.charges[intent["latest_charge"]]
        if not charge["captured"]:
            raise RequestError(400, f"Charge {charge['id']} has not been captured.", code="charge_not_refundable")
        return charge

    def refund_get(self, refund_id: str) -> dict:
        refund = self.refunds.get(refund_id)
        if refund is None:
            raise missing("refund", refund_id, "refund")
        return refund

    def refund_list(self, params: dict) -> list[dict]:
        refunds = sorted(self.refunds.values(), key=lambda r: r["created"], reverse=True)
        if params.get("payment_intent"):
            refunds = [r for r in refunds if r["payment_intent"] == params["payment_intent"]]
        if params.get("charge"):
            refunds = [r for r in refunds if r["charge"] == params["charge"]]
        return refunds

    # --- disputes (a cardholder's bank opens them; here a test or the demo does) ---
    def dispute_create(self, *, payment_intent: str, reason: str = "fraudulent", amount: int | None = None) -> dict:
        with self.lock:
            intent = self.intent_get(payment_intent)
            if not intent["latest_charge"] or not self.charges[intent["latest_charge"]]["paid"]:
                raise RequestError(400, "Only a paid charge can be disputed.")
            if reason not in DISPUTE_REASONS:
                raise RequestError(400, f"Invalid dispute reason: {reason}", param="reason")
            charge = self.charges[intent["latest_charge"]]
            dispute = example("dispute")
            dispute.update(
                id=new_id("dp"),
                amount=amount if amount is not None else charge["amount_captured"] or charge["amount"],
                charge=charge["id"],
                created=int(time.time()),
                currency=charge["currency"],
                payment_intent=intent["id"],
                reason=reason,
                status="needs_response",
                is_charge_refundable=False,
                balance_transactions=[],
                metadata={},
            )
            charge["disputed"] = True
            self.disputes[dispute["id"]] = dispute
            self.event("charge.dispute.created", dispute)
            return dispute

    # --- events ------------------------------------------------------------------
    def event_get(self, event_id: str) -> dict:
        for event in self.events:
            if event["id"] == event_id:
                return event
        raise missing("event", event_id, "id")

    def event_list(self, params: dict) -> list[dict]:
        events = list(reversed(self.events))
        if params.get("type"):
            events = [e for e in events if e["type"] == params["type"]]
        return events
