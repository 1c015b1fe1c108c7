"""A local Stripe: the endpoints Waybill uses, over real HTTP on loopback, answering in
Stripe's wire format (form-encoded requests checked against the official spec, JSON
responses shaped like the official fixtures, Stripe's error envelope), honouring
``Idempotency-Key`` as Stripe does, and emitting every event as a signed webhook.

    sandbox = StripeSandbox(api_key="sk_test_…", webhook_secret="whsec_…", webhook_urls=[…])
    base_url = sandbox.start()          # an ephemeral port unless one is given
    …
    sandbox.stop()

Besides Stripe's own endpoints it answers ``POST /_sandbox/disputes`` (form fields
``payment_intent``, ``reason``, optional ``amount``): a cardholder opening a dispute,
which only a bank can do against real Stripe.
"""

import hashlib
import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from orders.payments.sandbox.params import RequestError, decode, validate
from orders.payments.sandbox.signing import signature_header
from orders.payments.sandbox.state import SandboxState, new_id

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-10-28.endive"
WEBHOOK_ATTEMPTS = 4
WEBHOOK_TIMEOUT_SECONDS = 10
ID = r"([A-Za-z0-9_]+)"


@dataclass
class Logged:
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    status: int
    replayed: bool = False


@dataclass
class Fault:
    """Answer the next matching request with ``status``; with ``after_processing`` the
    request takes effect first (a response lost on the way back)."""

    method: str
    path_pattern: str
    status: int = 500
    after_processing: bool = False


@dataclass
class Delivery:
    event_id: str
    url: str
    status: int | None
    error: str = ""


@dataclass
class _Stored:
    fingerprint: str
    status: int
    body: bytes


@dataclass
class _Routes:
    routes: list = field(default_factory=list)

    def add(self, method: str, pattern: str, operation: str, handler):
        self.routes.append((method, re.compile(f"^{pattern}$"), operation, handler))

    def match(self, method: str, path: str):
        for route_method, pattern, operation, handler in self.routes:
            found = pattern.match(path)
            if found and route_method == method:
                return operation, handler, found.groups()
        return None


class StripeSandbox:
    def __init__(
        self,
        *,
        api_key: str | None = None,
        webhook_secret: str = "whsec_sandbox",
        webhook_urls: list[str] | None = None,
        api_version: str = DEFAULT_API_VERSION,
    ):
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_urls = list(webhook_urls or [])
        self.state = SandboxState(emit=self._emitted, api_version=api_version)
        self.requests: list[Logged] = []
        self.deliveries: list[Delivery] = []
        self.faults: list[Fault] = []
        self._idempotency: dict[str, _Stored] = {}
        self._lock = threading.Lock()
        self._outbox: queue.Queue = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.url = ""
        self._routes = self._build_routes()

    # --- lifecycle ---------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                sandbox._handle(self, "GET")

            def do_POST(self):
                sandbox._handle(self, "POST")

            def do_DELETE(self):
                sandbox._handle(self, "DELETE")

            def log_message(self, format, *args):
                logger.debug("stripe sandbox: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._threads = [
            threading.Thread(target=self._server.serve_forever, name="stripe-sandbox", daemon=True),
            threading.Thread(target=self._deliver_forever, name="stripe-sandbox-webhooks", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._outbox.put(None)
        for thread in self._threads:
            thread.join(timeout=5)

    def serve_forever(self, host: str, port: int) -> None:
        """For the management command: run until interrupted."""
        self.start(host, port)
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    # --- webhooks ----------------------------------------------------------------
    def signed(self, event: dict, *, timestamp: int | None = None, secret: str | None = None) -> tuple[bytes, str]:
        """The body and ``Stripe-Signature`` header a webhook of ``event`` carries."""
        payload = json.dumps(event, indent=2).encode()
        return payload, signature_header(payload, secret or self.webhook_secret, timestamp=timestamp)

    def events_of(self, type: str) -> list[dict]:
        return [event for event in self.state.events if event["type"] == type]

    def wait_for_deliveries(self, count: int, timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.deliveries)

    def _emitted(self, event: dict) -> None:
        for url in self.webhook_urls:
            self._outbox.put((event, url))

    def _deliver_forever(self) -> None:
        while (item := self._outbox.get()) is not None:
            event, url = item
            self.deliveries.append(self._deliver(event, url))

    def _deliver(self, event: dict, url: str) -> Delivery:
        """POST the event, retrying a failed attempt a few times with a short backoff
        (Stripe retries for days; a local server does not need to)."""
        error = ""
        status = None
        for attempt in range(WEBHOOK_ATTEMPTS):
            payload, header = self.signed(event)
            request = urllib.request.Request(
                url,
                data=payload,
                method="POST",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Stripe-Signature": header,
                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                    return Delivery(event["id"], url, response.status)
            except urllib.error.HTTPError as exc:
                status, error = exc.code, exc.read()[:500].decode(errors="replace")
            except OSError as exc:
                status, error = None, repr(exc)
            time.sleep(0.2 * 2**attempt)
        logger.warning("stripe sandbox: webhook %s to %s failed: %s %s", event["id"], url, status, error)
        return Delivery(event["id"], url, status, error)

    # --- HTTP --------------------------------------------------------------------
    def _build_routes(self) -> _Routes:
        state = self.state
        routes = _Routes()
        routes.add("POST", "/v1/payment_intents", "POST /v1/payment_intents", lambda p, r: state.intent_create(p, r))
        routes.add(
            "GET", f"/v1/payment_intents/{ID}", "GET /v1/payment_intents/{intent}", lambda p, r, i: state.intent_get(i)
        )
        routes.add(
            "POST",
            f"/v1/payment_intents/{ID}/confirm",
            "POST /v1/payment_intents/{intent}/confirm",
            lambda p, r, i: state.intent_confirm(i, p, r),
        )
        routes.add(
            "POST",
            f"/v1/payment_intents/{ID}/capture",
            "POST /v1/payment_intents/{intent}/capture",
            lambda p, r, i: state.intent_capture(i, p, r),
        )
        routes.add(
            "POST",
            f"/v1/payment_intents/{ID}/cancel",
            "POST /v1/payment_intents/{intent}/cancel",
            lambda p, r, i: state.intent_cancel(i, p, r),
        )
        routes.add("POST", "/v1/refunds", "POST /v1/refunds", lambda p, r: state.refund_create(p, r))
        routes.add("GET", "/v1/refunds", "GET /v1/refunds", lambda p, r: _page(state.refund_list(p), p, "/v1/refunds"))
        routes.add("GET", f"/v1/refunds/{ID}", "GET /v1/refunds/{refund}", lambda p, r, i: state.refund_get(i))
        routes.add("GET", f"/v1/charges/{ID}", "GET /v1/charges/{charge}", lambda p, r, i: state.charge_get(i))
        routes.add("GET", "/v1/events", "GET /v1/events", lambda p, r: _page(state.event_list(p), p, "/v1/events"))
        routes.add("GET", f"/v1/events/{ID}", "GET /v1/events/{id}", lambda p, r, i: state.event_get(i))
        return routes

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        request_id = new_id("req")
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        key = handler.headers.get("Idempotency-Key")
        try:
            if parts.path == "/_sandbox/disputes" and method == "POST":
                status, body, replayed = 200, self._dispute(raw), False
            else:
                status, body, replayed = self._stripe(handler, method, parts, raw, key, request_id)
        except RequestError as exc:
            status, body, replayed = exc.status, {"error": {**exc.body, "request_log_url": None}}, False
        except Exception:  # a sandbox bug must show as Stripe's api_error, not a dropped connection
            logger.exception("stripe sandbox: unexpected error")
            status, body, replayed = 500, {"error": {"type": "api_error", "message": "Sandbox internal error."}}, False
        self._respond(handler, status, body, request_id=request_id, replayed=replayed)

    def _stripe(self, handler, method, parts, raw, key, request_id) -> tuple[int, dict | bytes, bool]:
        self._authenticate(handler.headers.get("Authorization", ""))
        params = decode(raw.decode() if method == "POST" else parts.query)
        found = self._routes.match(method, parts.path)
        if found is None:
            raise RequestError(404, f"Unrecognized request URL ({method}: {parts.path}).")
        operation, function, ids = found
        fault = self._take_fault(method, parts.path)
        if fault is not None and not fault.after_processing:
            self._log(method, parts.path, params, key, fault.status)
            return fault.status, {"error": {"type": "api_error", "message": "Injected failure."}}, False
        fingerprint = hashlib.sha256(f"{method} {parts.path} {json.dumps(params, sort_keys=True)}".encode()).digest()
        if method == "POST" and key:
            with self._lock:
                stored = self._idempotency.get(key)
            if stored is not None:
                if stored.fingerprint != fingerprint.hex():
                    raise RequestError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                self._log(method, parts.path, params, key, stored.status, replayed=True)
                return stored.status, stored.body, True
        request = {"id": request_id, "idempotency_key": key}
        try:
            status, body = 200, function(validate(operation, params), request, *ids)
        except RequestError as exc:
            status, body = exc.status, {"error": {**exc.body, "request_log_url": None}}
        encoded = json.dumps(body).encode()
        if method == "POST" and key and status < 500:
            with self._lock:
                self._idempotency[key] = _Stored(fingerprint.hex(), status, encoded)
        self._log(method, parts.path, params, key, status)
        if fault is not None:
            return (
                fault.status,
                {"error": {"type": "api_error", "message": "Injected failure after processing."}},
                False,
            )
        return status, encoded, False

    def _authenticate(self, header: str) -> None:
        if self.api_key is None:
            return
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or value.strip() != self.api_key:
            raise RequestError(401, "Invalid API Key provided.", code="api_key_invalid")

    def _dispute(self, raw: bytes) -> dict:
        params = decode(raw.decode())
        amount = int(params["amount"]) if params.get("amount") else None
        if not params.get("payment_intent"):
            raise RequestError(400, "Missing required param: payment_intent.", code="parameter_missing")
        return self.state.dispute_create(
            payment_intent=params["payment_intent"], reason=params.get("reason") or "fraudulent", amount=amount
        )

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and re.search(fault.path_pattern, path):
                    self.faults.remove(fault)
                    return fault
        return None

    def _log(self, method, path, params, key, status, replayed=False) -> None:
        with self._lock:
            self.requests.append(Logged(method, path, params, key, status, replayed))

    def _respond(self, handler, status: int, body: dict | bytes, *, request_id: str, replayed: bool) -> None:
        encoded = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(encoded)))
        handler.send_header("Request-Id", request_id)
        handler.send_header("Stripe-Version", self.state.api_version)
        if replayed:
            handler.send_header("Idempotent-Replayed", "true")
        if status >= 500:
            handler.send_header("Stripe-Should-Retry", "true")
        handler.end_headers()
        handler.wfile.write(encoded)


def _page(items: list[dict], params: dict, url: str) -> dict:
    limit = max(1, min(100, int(params.get("limit") or 10)))
    if params.get("starting_after"):
        ids = [item["id"] for item in items]
        if params["starting_after"] in ids:
            items = items[ids.index(params["starting_after"]) + 1 :]
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}
