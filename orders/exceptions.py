from core.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = "No such order."


class InvalidOrder(ValidationFailed):
    default_message = "The order has invalid fields."


class InvalidTransition(Conflict):
    code = "invalid_transition"

    def __init__(self, *, current: str, requested: str, message: str | None = None):
        super().__init__(
            message or f"An order that is {current} cannot become {requested}.",
            details={"current": current, "requested": requested},
        )


class DuplicateExternalId(ApplicationError):
    code = "duplicate_external_id"
    status_code = 409
    default_message = "An order with this external id already exists for the channel."


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status_code = 422
    default_message = "This Idempotency-Key was already used with a different request body."


class WebhookSubscriptionNotFound(NotFound):
    code = "webhook_not_found"
    default_message = "No such webhook subscription."


class InvalidWebhookSubscription(ValidationFailed):
    default_message = "The webhook subscription has invalid fields."


class OrderNotEditable(Conflict):
    code = "order_not_editable"
    default_message = "The order can no longer be changed: it has shipped, completed or been cancelled."


class LineNotFound(NotFound):
    code = "line_not_found"
    default_message = "No such line on this order."
