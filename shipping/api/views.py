"""Shipping over the API: shipments and their tracking per order, live rate quotes for
checkout, shipment documents, the warehouse's work on a shipment (pick, scan, pack,
label, ship or hand over at the counter) for handheld apps and 3PLs, and the endpoint
carriers push tracking to."""

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actor import Actor
from core.api import idempotency_key
from core.views import pdf_response
from orders.services.idempotency import request_fingerprint
from sellers.models import ApiScope
from shipping.api.serializers import (
    RateQuoteInputSerializer,
    RateQuoteOutputSerializer,
    ShipmentLabelBuyInputSerializer,
    ShipmentOutputSerializer,
    ShipmentPackInputSerializer,
    ShipmentScanInputSerializer,
    ShipmentScanOutputSerializer,
    TrackingPushOutputSerializer,
)
from shipping.carriers.easypost import easypost_push_parse
from shipping.documents import packing_slip_pdf
from shipping.exceptions import ShipmentNotFound, UnknownTracking
from shipping.models import CarrierKind
from shipping.selectors import shipment_get, shipment_list_for_order
from shipping.services.documents import packing_slips
from shipping.services.labels import shipment_label_buy
from shipping.services.quotes import basket_quote
from shipping.services.shipments import (
    ParcelInput,
    ScanResult,
    shipment_collect,
    shipment_pack,
    shipment_pick_start,
    shipment_scan,
    shipment_scan_idempotent,
    shipment_ship,
)
from shipping.services.tracking import tracking_push

ERROR = OpenApiResponse(description="See the Error schema.")
PDF = OpenApiResponse(response=OpenApiTypes.BINARY, description="A PDF document.")


class OrderShipmentListApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="orders_shipments_list",
        responses={200: ShipmentOutputSerializer(many=True), 404: ERROR},
        summary="The order's shipments with their lines, parcels and tracking, oldest first",
    )
    def get(self, request, order_id: int):
        shipments = shipment_list_for_order(seller_id=request.auth.seller_id, order_id=order_id)
        return Response(ShipmentOutputSerializer(shipments, many=True).data)


class ShipmentDetailApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="shipments_retrieve",
        responses={200: ShipmentOutputSerializer, 404: ERROR},
        summary="One shipment with its tracking timeline",
    )
    def get(self, request, shipment_id: int):
        return Response(
            ShipmentOutputSerializer(shipment_get(seller_id=request.auth.seller_id, shipment_id=shipment_id)).data
        )


def _shipment_response(request, shipment_id: int) -> Response:
    return Response(
        ShipmentOutputSerializer(shipment_get(seller_id=request.auth.seller_id, shipment_id=shipment_id)).data
    )


class ShipmentLabelApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,), "POST": (ApiScope.FULFILLMENT_WRITE,)}

    @extend_schema(
        operation_id="shipments_label",
        responses={(200, "application/pdf"): PDF, 404: ERROR},
        summary="The shipment's label as PDF (404 until a label is bought)",
    )
    def get(self, request, shipment_id: int):
        shipment = shipment_get(seller_id=request.auth.seller_id, shipment_id=shipment_id)
        if not shipment.label_pdf:
            raise ShipmentNotFound("This shipment has no label to print.")
        return pdf_response(bytes(shipment.label_pdf), f"label-{shipment.tracking_number}.pdf")

    @extend_schema(
        operation_id="shipments_label_buy",
        request=ShipmentLabelBuyInputSerializer,
        responses={200: ShipmentOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR, 502: ERROR},
        summary="Buy the shipment's label (or record a typed tracking number)",
        description="Before it ships. 409 `label_conflict` if it has one; 502 `carrier_error` if the carrier fails.",
    )
    def post(self, request, shipment_id: int):
        serializer = ShipmentLabelBuyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        shipment_label_buy(
            seller_id=request.auth.seller_id,
            shipment_id=shipment_id,
            actor=Actor.api_key(request.auth),
            **serializer.validated_data,
        )
        return _shipment_response(request, shipment_id)


class _ShipmentMoveApi(APIView):
    """A bodiless POST that moves the shipment on through ``move`` (a service taking
    seller_id, shipment_id and actor) and answers with the shipment."""

    required_scopes = {"POST": (ApiScope.FULFILLMENT_WRITE,)}
    move: Callable[..., object]

    def post(self, request, shipment_id: int):
        self.move(seller_id=request.auth.seller_id, shipment_id=shipment_id, actor=Actor.api_key(request.auth))
        return _shipment_response(request, shipment_id)


def _move_schema(operation_id: str, summary: str, description: str = ""):
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            request=None,
            responses={200: ShipmentOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
            summary=summary,
            description=description,
        )
    )


@_move_schema("shipments_pick", "Start picking the shipment (pending → picking; a packed box opened again → picking)")
class ShipmentPickApi(_ShipmentMoveApi):
    move = staticmethod(shipment_pick_start)


class ShipmentScanApi(APIView):
    required_scopes = {"POST": (ApiScope.FULFILLMENT_WRITE,)}

    @extend_schema(
        operation_id="shipments_scan",
        request=ShipmentScanInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description="A unique string per scan (a UUID), so a scan resent after a timeout is counted once: "
                "the retry gets the first answer with `Idempotent-Replayed: true`. Kept at least 24 hours.",
            )
        ],
        responses={200: ShipmentScanOutputSerializer, 400: ERROR, 404: ERROR, 422: ERROR},
        summary="Count units scanned into the box",
        description=(
            "By barcode or SKU. 422 `scan_refused`, with what is still expected, for an item that is not on the "
            "shipment or one more than it needs; nothing is counted then."
        ),
    )
    def post(self, request, shipment_id: int):
        serializer = ShipmentScanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        scan = {"seller_id": request.auth.seller_id, "shipment_id": shipment_id, **serializer.validated_data}
        key = idempotency_key(request)
        if not key:
            return Response(self._render(shipment_scan(**scan)))
        result = shipment_scan_idempotent(
            **scan,
            key=key,
            fingerprint=request_fingerprint(method="POST", path=request.path, data=request.data),
            render=self._render,
        )
        return Response(result.body, headers={"Idempotent-Replayed": "true"} if result.replayed else None)

    @staticmethod
    def _render(result: ScanResult) -> dict:
        return ShipmentScanOutputSerializer({"line": result.line, "complete": result.complete}).data


class ShipmentPackApi(APIView):
    required_scopes = {"POST": (ApiScope.FULFILLMENT_WRITE,)}

    @extend_schema(
        operation_id="shipments_pack",
        request=ShipmentPackInputSerializer,
        responses={200: ShipmentOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
        summary="Close the box once every unit is scanned in",
        description="409 `packing_incomplete`, with what is missing, until every unit is scanned.",
    )
    def post(self, request, shipment_id: int):
        serializer = ShipmentPackInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        parcels = [ParcelInput(**parcel) for parcel in serializer.validated_data.get("parcels", [])]
        shipment_pack(
            seller_id=request.auth.seller_id,
            shipment_id=shipment_id,
            actor=Actor.api_key(request.auth),
            parcels=parcels or None,
        )
        return _shipment_response(request, shipment_id)


@_move_schema(
    "shipments_ship",
    "The carrier has the packed parcel: stock leaves, the order's lines are shipped",
    "Needs a label or tracking number. Announces `shipment.shipped`.",
)
class ShipmentShipApi(_ShipmentMoveApi):
    move = staticmethod(shipment_ship)


@_move_schema(
    "shipments_collect",
    "The customer collected a click-and-collect box at the counter",
    "Leaves stock as a shipment does and is delivered at once.",
)
class ShipmentCollectApi(_ShipmentMoveApi):
    move = staticmethod(shipment_collect)


class ShipmentPackingSlipApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="shipments_packing_slip",
        responses={(200, "application/pdf"): PDF, 404: ERROR},
        summary="The shipment's packing slip as PDF",
    )
    def get(self, request, shipment_id: int):
        shipment = shipment_get(seller_id=request.auth.seller_id, shipment_id=shipment_id)
        return pdf_response(packing_slip_pdf(packing_slips([shipment])), f"packing-slip-{shipment.number}.pdf")


class RateQuoteApi(APIView):
    required_scopes = {"POST": (ApiScope.PRODUCTS_READ,)}

    @extend_schema(
        operation_id="shipping_rates_quote",
        request=RateQuoteInputSerializer,
        responses={200: RateQuoteOutputSerializer, 400: ERROR},
        summary="Shipping options and prices for a basket and address",
        description="Routes the basket as an order would (nothing is reserved) and asks every active carrier. "
        "Pass the chosen option as `metadata.shipping = {carrier, service, max_transit_days}` when placing the "
        "order: its shipments then use that carrier and keep to that speed.",
    )
    def post(self, request):
        serializer = RateQuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quote = basket_quote(
            seller=request.auth.seller,
            lines=[(line["sku"], line["quantity"]) for line in data["lines"]],
            address=data["address"],
            currency=data.get("currency", ""),
        )
        return Response(RateQuoteOutputSerializer(quote).data)


class CarrierTrackingPushApi(APIView):
    """Carriers push tracking here; no API key, the carrier's signature instead."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="shipping_carrier_tracking_push",
        request=OpenApiTypes.OBJECT,
        responses={200: TrackingPushOutputSerializer, 400: ERROR, 404: ERROR},
        auth=[],
        summary="Tracking push from a carrier (EasyPost tracker events)",
        description="Verified by the carrier's signature (EasyPost: `X-Hmac-Signature`). 404 `unknown_carrier` "
        "for a carrier that does not push, 404 `unknown_tracking` for a parcel Waybill did not ship.",
    )
    def post(self, request, carrier: str):
        if carrier != CarrierKind.EASYPOST:
            raise UnknownTracking("No carrier pushes tracking here.", details={"carrier": carrier})
        push = easypost_push_parse(body=request.body, headers=dict(request.headers))
        events = tracking_push(
            carrier_kind=CarrierKind.EASYPOST,
            event_id=push.event_id,
            tracker_id=push.tracker_id,
            tracking_number=push.tracking_code,
            updates=push.updates,
        )
        return Response({"received": True, "new_events": len(events)})
