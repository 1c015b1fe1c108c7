"""One error shape for the whole API: ``{"code", "message", "details"}``.

Every path leads here: our ApplicationError, DRF's exceptions (validation, parse,
media type, auth, throttling, 404, 405) and Django's Http404/PermissionDenied. The
URL-level handlers at the bottom cover requests that never reach a DRF view
(an unknown URL, an unexpected crash) for paths under /api/.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from core.exceptions import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)

DRF_CODES = {
    drf_exceptions.ParseError: ("malformed_request", "The request body could not be parsed."),
    drf_exceptions.UnsupportedMediaType: ("unsupported_media_type", None),
    drf_exceptions.NotAuthenticated: ("not_authenticated", None),
    drf_exceptions.AuthenticationFailed: ("authentication_failed", None),
    drf_exceptions.PermissionDenied: ("permission_denied", None),
    drf_exceptions.NotFound: ("not_found", "Not found."),
    drf_exceptions.MethodNotAllowed: ("method_not_allowed", None),
    drf_exceptions.NotAcceptable: ("not_acceptable", None),
    drf_exceptions.Throttled: ("throttled", None),
}


def idempotency_key(request) -> str:
    """The request's ``Idempotency-Key`` header ("" without one), refused past 255 characters."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > 255:
        raise ValidationFailed(details={"Idempotency-Key": ["At most 255 characters."]})
    return key


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "message": message, "details": details or {}}


def _flatten_validation(detail) -> dict:
    """DRF's nested ValidationError detail → ``{"field.sub.0": ["message", ...]}``."""
    flat: dict[str, list[str]] = {}

    def walk(value, path):
        if isinstance(value, dict):
            for key, sub in value.items():
                # A list field's own errors come as {"non_field_errors": [...]}: they
                # belong to the field itself.
                if key == api_settings.NON_FIELD_ERRORS_KEY and path:
                    walk(sub, path)
                else:
                    walk(sub, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            if all(not isinstance(v, (dict, list)) for v in value):
                flat.setdefault(path or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, sub in enumerate(value):
                    if sub:
                        walk(sub, f"{path}.{index}" if path else str(index))
        else:
            flat.setdefault(path or "non_field_errors", []).append(str(value))

    walk(detail, "")
    return flat


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)

    if isinstance(exc, drf_exceptions.ValidationError):
        set_rollback()
        return Response(
            error_body("validation_error", "The request has invalid fields.", _flatten_validation(exc.detail)),
            status=status.HTTP_400_BAD_REQUEST,
        )

    if isinstance(exc, drf_exceptions.APIException):
        set_rollback()
        code, message = next(
            ((c, m) for cls, (c, m) in DRF_CODES.items() if isinstance(exc, cls)),
            (str(exc.default_code), None),
        )
        headers = {}
        details: dict = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if isinstance(exc, drf_exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait) + (exc.wait % 1 > 0))
            details["retry_after_seconds"] = int(headers["Retry-After"])
        return Response(error_body(code, message or str(exc.detail), details), status=exc.status_code, headers=headers)

    logger.exception("Unhandled error in API view", exc_info=exc)
    set_rollback()
    return Response(
        error_body("server_error", "An unexpected error occurred. It has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


@csrf_exempt
def json_not_found(request, exception=None, **kwargs):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def json_server_error(request):
    return JsonResponse(error_body("server_error", "An unexpected error occurred. It has been logged."), status=500)
