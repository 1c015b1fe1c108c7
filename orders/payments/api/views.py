from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actor import Actor
from core.exceptions import NotFound, ValidationFailed
from orders.payments.api.serializers import (
    PaymentOutputSerializer,
    RefundCreateInputSerializer,
    RefundOutputSerializer,
    StripeWebhookAckSerializer,
)
from orders.payments.exceptions import PaymentProviderUnavailable
from orders.payments.models import RefundState, StripeAccount
from orders.payments.selectors import payment_list
from orders.payments.services import RefundInput, refund_request, refund_submit, stripe_webhook_receive
from orders.services.idempotency import request_fingerprint
from sellers.models import ApiScope

ERROR = OpenApiResponse(description="See the Error schema.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string per refund. A retry with the same key and body returns the first refund "
    "(`Idempotent-Replayed: true`) and refunds nothing more; the same key with another body is a 422.",
)


class OrderPaymentListApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="orders_payments_list",
        responses={200: PaymentOutputSerializer(many=True), 404: ERROR},
        summary="The order's payments and their refunds",
    )
    def get(self, request, order_id: int):
        payments = payment_list(seller_id=request.auth.seller_id, order_id=order_id)
        return Response(PaymentOutputSerializer(payments, many=True).data)


class OrderRefundCreateApi(APIView):
    required_scopes = {"POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="orders_refunds_create",
        request=RefundCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: RefundOutputSerializer,
            202: OpenApiResponse(
                RefundOutputSerializer,
                description="Stripe was unreachable: the refund is "
                "pending and is sent again shortly, with the same idempotency key.",
            ),
            400: ERROR,
            402: ERROR,
            404: ERROR,
            409: ERROR,
            422: ERROR,
        },
        summary="Refund part or all of the captured payment through Stripe",
        description="409 `refund_exceeds_captured` when more is asked than is left to refund, "
        "`invalid_payment_state` when nothing is captured yet (an uncaptured payment is voided by cancelling).",
    )
    def post(self, request, order_id: int):
        serializer = RefundCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise ValidationFailed(details={"Idempotency-Key": ["At most 200 characters."]})
        seller_id, actor = request.auth.seller_id, Actor.api_key(request.auth)
        data = RefundInput(
            amount=serializer.validated_data["amount"],
            reason=serializer.validated_data["reason"],
            idempotency_key=f"api:{key}" if key else "",
            fingerprint=request_fingerprint(method="POST", path=request.path, data=request.data)[:64],
        )
        refund, created = refund_request(seller_id=seller_id, order_id=order_id, data=data, actor=actor)
        if refund.status == RefundState.PENDING:
            try:
                refund = refund_submit(refund_id=refund.pk, actor=actor)
            except PaymentProviderUnavailable:
                return Response(RefundOutputSerializer(refund).data, status=status.HTTP_202_ACCEPTED)
        headers = {} if created else {"Idempotent-Replayed": "true"}
        return Response(RefundOutputSerializer(refund).data, status=status.HTTP_201_CREATED, headers=headers)


class StripeWebhookApi(APIView):
    """Stripe calls this; it authenticates by the ``Stripe-Signature`` header."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        operation_id="stripe_webhook",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: StripeWebhookAckSerializer, 400: ERROR},
        auth=[],
        summary="Stripe webhook endpoint (for Stripe, not for storefronts)",
        description="Verifies `Stripe-Signature` against STRIPE_WEBHOOK_SECRET (400 `invalid_signature`, nothing "
        "written, when it does not verify or is older than the tolerance) and applies each event once by its id. "
        "Every verified event is acknowledged with 200, including types Waybill ignores.",
    )
    def post(self, request):
        outcome = stripe_webhook_receive(payload=request.body, signature=request.headers.get("Stripe-Signature", ""))
        return Response({"received": True, "outcome": outcome})


class StripeSellerWebhookApi(APIView):
    """The endpoint of a seller's own Stripe account (see StripeAccount)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @extend_schema(
        operation_id="stripe_seller_webhook",
        request={"application/json": OpenApiTypes.OBJECT},
        responses={200: StripeWebhookAckSerializer, 400: ERROR, 404: ERROR},
        auth=[],
        summary="Stripe webhook endpoint of a seller's own Stripe account (for Stripe, not for storefronts)",
        description="As the install's endpoint, but verified with the seller's own signing secret, and only that "
        "seller's payments are touched. 404 for a seller without its own Stripe account.",
    )
    def post(self, request, seller_slug: str):
        account = StripeAccount.objects.filter(seller__slug=seller_slug).values_list("seller_id", flat=True).first()
        if account is None:
            raise NotFound()
        outcome = stripe_webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", ""), seller_id=account
        )
        return Response({"received": True, "outcome": outcome})
