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
