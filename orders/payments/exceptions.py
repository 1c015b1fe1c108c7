from core.exceptions import ApplicationError, Conflict, NotFound


class PaymentIntentMismatch(ApplicationError):
    """The PaymentIntent an order references does not pay for this order."""

    code = "payment_intent_mismatch"
    status_code = 422
    default_message = "The payment_intent does not match the order."


class PaymentIntentInUse(Conflict):
    code = "payment_intent_in_use"
    default_message = "This payment_intent already pays for another order."


class PaymentDeclined(ApplicationError):
    code = "payment_declined"
    status_code = 402
    default_message = "The payment was declined."


class PaymentProviderUnavailable(ApplicationError):
    code = "payment_provider_unavailable"
    status_code = 503
    default_message = "Stripe could not be reached; try again shortly."


class PaymentProviderRefused(Conflict):
    code = "payment_provider_refused"
    default_message = "Stripe refused the request."


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    default_message = "No such payment."


class InvalidPaymentState(Conflict):
    code = "invalid_payment_state"
    default_message = "The payment cannot do this in its current state."


class RefundExceedsCaptured(Conflict):
    code = "refund_exceeds_captured"
    default_message = "The refund is larger than what is left to refund."


class RefundKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status_code = 422
    default_message = "This Idempotency-Key was already used for another refund."


class WebhookSignatureInvalid(ApplicationError):
    code = "invalid_signature"
    status_code = 400
    default_message = "The Stripe-Signature header does not verify."


class WebhookPayloadInvalid(ApplicationError):
    code = "invalid_payload"
    status_code = 400
    default_message = "The webhook body is not a Stripe event."
