"""A local EasyPost for the demo and the tests: real HTTP on loopback answering the
endpoints Waybill uses in EasyPost's documented JSON shapes (Shipment with Rates,
buy → PostageLabel + Tracker, refund → refund_status, Tracker with TrackingDetails,
errors as ``{"error": {"code", "message", "errors"}}``), so the official SDK runs
against it unpatched. Its tracker can be moved along, and each move can be pushed as a
signed ``tracker.updated`` Event (``X-Hmac-Signature: hmac-sha256-hex=…``), as
EasyPost's webhooks are.

State lives in memory; the server stops with its owner (a test fixture or the
``easypost_sandbox`` command).
"""

import hashlib
import hmac
import json
import math
import re
import secrets
import threading
import unicodedata
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from shipping.carriers.base import Address, ParcelSpec, ShipmentRequest
from shipping.documents import label_pdf

# (carrier, service, base price, per pound, days). Prices grow with weight and distance.
SERVICES = (
    ("USPS", "GroundAdvantage", 4.60, 0.85, 5),
    ("USPS", "Priority", 7.40, 1.35, 2),
    ("USPS", "Express", 26.35, 3.10, 1),
    ("UPS", "Ground", 8.90, 0.95, 4),
)
TRACKING_STEPS = (
    ("in_transit", "Arrived at USPS Regional Facility", "DENVER", "CO", "80202"),
    ("out_for_delivery", "Out for Delivery", "BOSTON", "MA", "02110"),
    ("delivered", "Delivered, In/At Mailbox", "BOSTON", "MA", "02110"),
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"


def webhook_signature(body: bytes, secret: str) -> str:
    """EasyPost's webhook signature: HMAC-SHA256 of the raw body with the NFKD-normalised secret."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


class SandboxError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class EasyPostState:
    def __init__(self):
        self.lock = threading.Lock()
        self.shipments: dict[str, dict] = {}
        self.trackers: dict[str, dict] = {}
        self.labels: dict[str, bytes] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path): what the client asked

    # -- shipments -------------------------------------------------------------------
    def shipment_create(self, params: dict, base_url: str) -> dict:
        shipment = params.get("shipment")
        if not isinstance(shipment, dict):
            raise SandboxError(422, "PARAMETER.REQUIRED", "Missing required parameter: shipment.")
        to_address, from_address = shipment.get("to_address"), shipment.get("from_address")
        parcel = shipment.get("parcel") or {}
        for name, address in (("to_address", to_address), ("from_address", from_address)):
            if not isinstance(address, dict) or not address.get("street1") or not address.get("country"):
                raise SandboxError(422, "ADDRESS.VERIFY.FAILURE", f"{name} needs street1 and country.")
        try:
            ounces = float(parcel.get("weight"))
        except (TypeError, ValueError):
            raise SandboxError(422, "PARCEL.WEIGHT.INVALID", "Parcel weight is required.") from None
        if ounces <= 0:
            raise SandboxError(422, "PARCEL.WEIGHT.INVALID", "Parcel weight must be positive.")
        shipment_id, now = _id("shp"), _now()
        options = shipment.get("options") or {}
        record = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": "test",
            "created_at": now,
            "updated_at": now,
            "is_return": False,
            "messages": [],
            "options": {"currency": "USD", "payment": {"type": "SENDER"}, "date_advance": 0, **options},
            "reference": shipment.get("reference"),
            "status": "unknown",
            "tracking_code": None,
            "batch_id": None,
            "batch_status": None,
            "batch_message": None,
            "customs_info": None,
            "from_address": self._address(from_address, now),
            "to_address": self._address(to_address, now),
            "return_address": None,
            "buyer_address": None,
            "insurance": None,
            "order_id": None,
            "parcel": {
                "id": _id("prcl"),
                "object": "Parcel",
                "created_at": now,
                "updated_at": now,
                "length": parcel.get("length"),
                "width": parcel.get("width"),
                "height": parcel.get("height"),
                "predefined_package": None,
                "weight": ounces,
                "mode": "test",
            },
            "postage_label": None,
            "rates": self._rates(shipment_id, from_address, to_address, ounces, now),
            "refund_status": None,
            "scan_form": None,
            "selected_rate": None,
            "tracker": None,
            "usps_zone": self._zone(from_address, to_address),
            "forms": [],
            "fees": [],
        }
        record["return_address"], record["buyer_address"] = record["from_address"], record["to_address"]
        with self.lock:
            self.shipments[shipment_id] = record
        return record

    @staticmethod
    def _address(address: dict, now: str) -> dict:
        fields = ("name", "company", "street1", "street2", "city", "state", "zip", "country", "phone", "email")
        result = {"id": _id("adr"), "object": "Address", "created_at": now, "updated_at": now, "mode": "test"}
        result.update({field: address.get(field) for field in fields})
        result.update(carrier_facility=None, residential=None, federal_tax_id=None, state_tax_id=None, verifications={})
        return result

    @staticmethod
    def _zone(from_address: dict, to_address: dict) -> int:
        if from_address.get("country") != "US" or to_address.get("country") != "US":
            return 9
        digits = [re.sub(r"\D", "", str(a.get("zip") or "0"))[:1] or "0" for a in (from_address, to_address)]
        return 1 + abs(int(digits[0]) - int(digits[1]))

    def _rates(self, shipment_id: str, from_address: dict, to_address: dict, ounces: float, now: str) -> list[dict]:
        zone = self._zone(from_address, to_address)
        pounds = max(1, math.ceil(ounces / 16))
        rates = []
        for carrier, service, base, per_pound, days in SERVICES:
            price = round(base + per_pound * pounds * (1 + zone / 8), 2)
            rates.append(
                {
                    "id": _id("rate"),
                    "object": "Rate",
                    "created_at": now,
                    "updated_at": now,
                    "mode": "test",
                    "service": service,
                    "carrier": carrier,
                    "rate": f"{price:.2f}",
                    "currency": "USD",
                    "retail_rate": f"{price * 1.2:.2f}",
                    "retail_currency": "USD",
                    "list_rate": f"{price * 1.1:.2f}",
                    "list_currency": "USD",
                    "billing_type": "easypost",
                    "delivery_days": days,
                    "delivery_date": None,
                    "delivery_date_guaranteed": False,
                    "est_delivery_days": days,
                    "shipment_id": shipment_id,
                    "carrier_account_id": "ca_" + hashlib.md5(carrier.encode()).hexdigest(),  # noqa: S324
                }
            )
        return rates

    def shipment_get(self, shipment_id: str) -> dict:
        with self.lock:
            shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise SandboxError(404, "NOT_FOUND", "The requested resource could not be found.")
        return shipment

    def shipment_buy(self, shipment_id: str, params: dict, base_url: str) -> dict:
        shipment = self.shipment_get(shipment_id)
        rate_id = (params.get("rate") or {}).get("id")
        with self.lock:
            if shipment["postage_label"] is not None:
                raise SandboxError(422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment.")
            rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
            if rate is None:
                raise SandboxError(422, "SHIPMENT.RATE.INVALID", "The rate is not one of this shipment's rates.")
            now = _now()
            tracking_code = "9400" + "".join(str(secrets.randbelow(10)) for _ in range(18))
            label_id = _id("pl")
            self.labels[label_id] = self._label(shipment, rate, tracking_code)
            label_url = f"{base_url}/files/postage_label/{label_id}.pdf"
            tracker = {
                "id": _id("trk"),
                "object": "Tracker",
                "mode": "test",
                "tracking_code": tracking_code,
                "status": "pre_transit",
                "status_detail": "label_created",
                "created_at": now,
                "updated_at": now,
                "signed_by": None,
                "weight": None,
                "est_delivery_date": None,
                "shipment_id": shipment_id,
                "carrier": rate["carrier"],
                "tracking_details": [
                    self._detail(
                        "pre_transit", "Shipping Label Created", None, None, None, status_detail="label_created"
                    )
                ],
                "fees": [],
                "carrier_detail": None,
                "public_url": f"{base_url}/track/{tracking_code}",
            }
            self.trackers[tracker["id"]] = tracker
            shipment.update(
                tracking_code=tracking_code,
                updated_at=now,
                selected_rate=rate,
                tracker=tracker,
                postage_label={
                    "object": "PostageLabel",
                    "id": label_id,
                    "created_at": now,
                    "updated_at": now,
                    "date_advance": 0,
                    "integrated_form": "none",
                    "label_date": now,
                    "label_resolution": 300,
                    "label_size": "4x6",
                    "label_type": "default",
                    "label_file_type": "application/pdf",
                    "label_url": label_url,
                    "label_pdf_url": label_url,
                    "label_zpl_url": None,
                    "label_epl2_url": None,
                    "label_file": None,
                },
                fees=[
                    {"object": "Fee", "type": "LabelFee", "amount": "0.00000", "charged": True, "refunded": False},
                    {
                        "object": "Fee",
                        "type": "PostageFee",
                        "amount": f"{float(rate['rate']):.5f}",
                        "charged": True,
                        "refunded": False,
                    },
                ],
            )
            return shipment

    @staticmethod
    def _label(shipment: dict, rate: dict, tracking_code: str) -> bytes:
        def address(a: dict) -> Address:
            return Address(
                name=a.get("name") or "",
                line1=a.get("street1") or "",
                line2=a.get("street2") or "",
                city=a.get("city") or "",
                region=a.get("state") or "",
                postal_code=a.get("zip") or "",
                country=a.get("country") or "",
            )

        grams = int(float(shipment["parcel"]["weight"]) * 28.349523125)
        request = ShipmentRequest(
            reference=shipment.get("reference") or shipment["id"],
            from_address=address(shipment["from_address"]),
            to_address=address(shipment["to_address"]),
            parcels=(ParcelSpec(weight_grams=max(grams, 1)),),
            currency="USD",
        )
        return label_pdf(
            carrier_name=rate["carrier"], service_name=rate["service"], tracking_number=tracking_code, request=request
        )

    def shipment_refund(self, shipment_id: str) -> dict:
        shipment = self.shipment_get(shipment_id)
        with self.lock:
            if shipment["postage_label"] is None:
                raise SandboxError(422, "SHIPMENT.REFUND.UNAVAILABLE", "This shipment has no postage to refund.")
            if shipment["refund_status"]:
                raise SandboxError(422, "SHIPMENT.REFUND.EXISTS", "A refund was already requested.")
            tracker = shipment["tracker"] or {}
            if tracker.get("status") not in (None, "pre_transit", "unknown"):
                raise SandboxError(422, "SHIPMENT.REFUND.UNAVAILABLE", "The parcel is already with the carrier.")
            shipment.update(refund_status="submitted", updated_at=_now())
            return shipment

    # -- trackers --------------------------------------------------------------------
    @staticmethod
    def _detail(status, message, city, state, zip_code, *, status_detail="status_update") -> dict:
        return {
            "object": "TrackingDetail",
            "message": message,
            "description": "",
            "status": status,
            "status_detail": status_detail,
            "datetime": _now(),
            "source": "USPS",
            "carrier_code": "",
            "tracking_location": {
                "object": "TrackingLocation",
                "city": city,
                "state": state,
                "country": None,
                "zip": zip_code,
            },
        }

    def tracker_get(self, tracker_id: str) -> dict:
        with self.lock:
            tracker = self.trackers.get(tracker_id)
        if tracker is None:
            raise SandboxError(404, "NOT_FOUND", "The requested resource could not be found.")
        return tracker

    def tracker_create(self, params: dict) -> dict:
        code = str((params.get("tracker") or {}).get("tracking_code") or "")
        with self.lock:
            tracker = next((t for t in self.trackers.values() if t["tracking_code"] == code), None)
        if tracker is None:
            raise SandboxError(422, "TRACKER.TRACKING_CODE.INVALID", "Unknown tracking code.")
        return tracker

    def tracker_advance(self, tracking_code: str, status: str | None = None) -> dict:
        """Move a parcel one step on (or straight to ``status``)."""
        with self.lock:
            tracker = next((t for t in self.trackers.values() if t["tracking_code"] == tracking_code), None)
            if tracker is None:
                raise KeyError(tracking_code)
            done = {detail["status"] for detail in tracker["tracking_details"]}
            step = next(
                (s for s in TRACKING_STEPS if (s[0] == status if status else s[0] not in done)),
                TRACKING_STEPS[-1],
            )
            tracker["tracking_details"].append(self._detail(*step))
            tracker.update(status=step[0], status_detail="arrived_at_destination", updated_at=_now())
            return json.loads(json.dumps(tracker))

    def event_for(self, tracker: dict) -> dict:
        now = _now()
        return {
            "object": "Event",
            "id": _id("evt"),
            "mode": "test",
            "description": "tracker.updated",
            "previous_attributes": {},
            "result": tracker,
            "status": "pending",
            "pending_urls": [],
            "completed_urls": [],
            "created_at": now,
            "updated_at": now,
            "user_id": "user_sandbox",
        }


def _handler(state: EasyPostState, api_key: str, base_url_of):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload) -> None:
            self._send(status, json.dumps(payload).encode())

        def _params(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not raw:
                return {}
            try:
                return json.loads(raw)
            except json.JSONDecodeError:
                raise SandboxError(400, "PARAMETER.INVALID", "The body is not JSON.") from None

        def _route(self, method: str) -> None:
            path = urlparse(self.path).path.rstrip("/")
            state.requests.append((method, path))
            if method == "GET" and path.startswith("/files/postage_label/"):
                label = state.labels.get(path.rsplit("/", 1)[-1].removesuffix(".pdf"))
                return self._send(200, label, "application/pdf") if label else self._json(404, {})
            if not path.startswith("/v2/"):
                raise SandboxError(404, "NOT_FOUND", "The requested resource could not be found.")
            if self.headers.get("Authorization") != f"Bearer {api_key}":
                raise SandboxError(401, "APIKEY.INVALID", "The API key is missing or invalid.")
            parts = path.split("/")[2:]
            base = base_url_of()
            if method == "POST" and parts == ["shipments"]:
                return self._json(201, state.shipment_create(self._params(), base))
            if method == "GET" and len(parts) == 2 and parts[0] == "shipments":
                return self._json(200, state.shipment_get(parts[1]))
            if method == "POST" and len(parts) == 3 and parts[0] == "shipments" and parts[2] == "buy":
                return self._json(200, state.shipment_buy(parts[1], self._params(), base))
            if method == "POST" and len(parts) == 3 and parts[0] == "shipments" and parts[2] == "refund":
                self._params()
                return self._json(200, state.shipment_refund(parts[1]))
            if method == "POST" and parts == ["trackers"]:
                return self._json(201, state.tracker_create(self._params()))
            if method == "GET" and len(parts) == 2 and parts[0] == "trackers":
                return self._json(200, state.tracker_get(parts[1]))
            raise SandboxError(404, "NOT_FOUND", "The requested resource could not be found.")

        def _handle(self, method: str) -> None:
            try:
                self._route(method)
            except SandboxError as exc:
                self._json(exc.status, {"error": {"code": exc.code, "message": exc.message, "errors": []}})

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

    return Handler


class EasyPostSandbox:
    """Start with ``start()``; ``api_base`` is what the SDK is pointed at."""

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_url: str = "",
    ):
        self.state = EasyPostState()
        self.api_key, self.webhook_secret, self.webhook_url = api_key, webhook_secret, webhook_url
        self.server = ThreadingHTTPServer((host, port), _handler(self.state, api_key, lambda: self.root_url))
        self.server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def root_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_base(self) -> str:
        return f"{self.root_url}/v2"

    def start(self) -> "EasyPostSandbox":
        self._thread = threading.Thread(target=self.server.serve_forever, name="easypost-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def signed_event(self, tracker: dict) -> tuple[bytes, dict[str, str]]:
        """A ``tracker.updated`` Event as EasyPost would POST it: body and headers."""
        body = json.dumps(self.state.event_for(tracker)).encode()
        return body, {
            "Content-Type": "application/json",
            "X-Hmac-Signature": webhook_signature(body, self.webhook_secret),
        }

    def advance(self, tracking_code: str, status: str | None = None, *, push: bool = False) -> dict:
        """Move a parcel on; with ``push``, POST the event to the webhook URL."""
        tracker = self.state.tracker_advance(tracking_code, status)
        if push and self.webhook_url:
            body, headers = self.signed_event(tracker)
            with urlopen(Request(self.webhook_url, data=body, headers=headers, method="POST"), timeout=10):  # noqa: S310
                pass
        return tracker
