from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views import csrf as csrf_views
from django.views import defaults

from core.api import error_body, json_not_found, json_server_error


def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found_or_html(request, exception=None):
    """API paths answer in the one JSON error shape; the admin keeps Django's page."""
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return defaults.page_not_found(request, exception)


def server_error_or_html(request):
    if request.path.startswith("/api/"):
        return json_server_error(request)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """API clients authenticate with keys and never hold a CSRF token; any CSRF refusal
    they meet still answers in the one error shape."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("csrf_failed", "CSRF verification failed."), status=403)
    return csrf_views.csrf_failure(request, reason=reason)


def pdf_response(content: bytes, filename: str, *, attachment: bool = False) -> HttpResponse:
    """A PDF document (an invoice, a label, a pick list) as the browser or client gets it."""
    response = HttpResponse(content, content_type="application/pdf")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response
