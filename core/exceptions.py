"""The one error base every service raises. The API renders it as
``{"code": ..., "message": ..., "details": {...}}`` with its HTTP status."""

from typing import Any


class ApplicationError(Exception):
    code = "application_error"
    status_code = 400
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None):
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "validation_error"
    status_code = 400
    default_message = "The request has invalid fields."


class NotFound(ApplicationError):
    code = "not_found"
    status_code = 404
    default_message = "Not found."


class Conflict(ApplicationError):
    code = "conflict"
    status_code = 409
    default_message = "The request conflicts with the current state."


class HandlerFailed(Exception):
    """An outbox handler failed; the relay task retries the event with backoff.
    Internal to the worker, never shown to an API client."""
