import django_filters
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.filters import OrderingFilter
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actor import Actor
from core.api import idempotency_key
from core.filters import UtcDateTimeFilter
from core.pagination import IdCursorPagination
from orders.api.serializers import (
    LineCancelInputSerializer,
    OrderCancelInputSerializer,
    OrderCreateInputSerializer,
    OrderEventOutputSerializer,
    OrderOutputSerializer,
    ShippingAddressSerializer,
    address_input,
)
from orders.models import Channel, Order
from orders.payments.services import payment_checks
from orders.selectors import order_events_list, order_get, order_list
from orders.services import order_cancel, order_place
from orders.services.allocation import order_ready_for_pickup
from orders.services.changes import order_line_cancel, order_shipping_address_update
from orders.services.idempotency import order_place_idempotent, request_fingerprint
from orders.status import FulfillmentStatus, Lifecycle, PaymentStatus
from sellers.models import ApiScope

ERROR = OpenApiResponse(description="See the Error schema.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID) per order. A retry with the same key and body returns the first "
    "response (with `Idempotent-Replayed: true`) and creates nothing; the same key with another body is a 422. "
    "Kept at least 24 hours.",
)


def _render(order) -> dict:
    """A just-placed order comes back from the service with its lines attached."""
    return OrderOutputSerializer(order).data


class OrderFilter(django_filters.FilterSet):
    # distinct=False: they filter the order's own columns, which cannot repeat a row,
    # and django-filter's default SELECT DISTINCT over every column keeps PostgreSQL
    # from walking the (seller, lifecycle, id) index in order.
    lifecycle = django_filters.MultipleChoiceFilter(choices=Lifecycle.choices, distinct=False)
    payment_status = django_filters.MultipleChoiceFilter(choices=PaymentStatus.choices, distinct=False)
    fulfillment_status = django_filters.MultipleChoiceFilter(choices=FulfillmentStatus.choices, distinct=False)
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices, distinct=False)
    external_id = django_filters.CharFilter()
    number = django_filters.NumberFilter()
    customer_email = django_filters.CharFilter(lookup_expr="iexact")
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Order
        fields = []


class OrderListOrdering(OrderingFilter):
    """Newest first by id, except with a created-at range: PostgreSQL cannot know that
    created_at rises with id and would walk the primary key through every newer order,
    so such a listing runs newest first by created_at on its own index."""

    def get_default_ordering(self, view):
        if {"created_after", "created_before"} & set(view.request.query_params):
            return ["-created_at"]
        return super().get_default_ordering(view)


class OrderListCreateApi(GenericAPIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,), "POST": (ApiScope.ORDERS_WRITE,)}
    filter_backends = [DjangoFilterBackend, OrderListOrdering]
    filterset_class = OrderFilter
    # Newest first for people; `ordering=updated_at` for sync clients that page through
    # everything changed since their last run (an order changed mid-sync comes again).
    ordering_fields = ["id", "updated_at", "created_at"]
    ordering = ["-id"]
    pagination_class = IdCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no seller
            return Order.objects.none()
        return order_list(seller_id=self.request.auth.seller_id)

    @extend_schema(
        operation_id="orders_list",
        responses=OrderOutputSerializer(many=True),
        summary="List orders, newest first",
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrderOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_create",
        request=OrderCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: OrderOutputSerializer, 400: ERROR, 409: ERROR, 422: ERROR, 503: ERROR},
        summary="Place an order",
        description="Validates, reserves stock and numbers the order in one transaction; "
        "nothing is written if any check fails. 409 `insufficient_stock` lists the short SKUs. "
        "With a `payment_intent`, Stripe is asked first: 422 `payment_intent_mismatch` when it does not pay for "
        "this order (details per field), 409 `payment_intent_in_use`, 503 when Stripe cannot be reached.",
    )
    def post(self, request):
        serializer = OrderCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        seller, actor = request.auth.seller, Actor.api_key(request.auth)
        data = serializer.to_order_input()
        # A payment_intent is verified with Stripe before any lock and recorded as a
        # Payment in the order's transaction.
        before_write, then = payment_checks(payment_intent=data.payment_intent, actor=actor)
        key = idempotency_key(request)
        if not key:
            order = order_place(seller=seller, data=data, actor=actor, before_write=before_write, then=then)
            return self._created(_render(order), replayed=False)
        result = order_place_idempotent(
            seller=seller,
            key=key,
            fingerprint=request_fingerprint(method="POST", path=request.path, data=request.data),
            data=data,
            actor=actor,
            render=_render,
            before_write=before_write,
            then=then,
        )
        return self._created(result.body, replayed=result.replayed)

    @staticmethod
    def _created(body: dict, *, replayed: bool) -> Response:
        headers = {"Location": reverse("order-detail", kwargs={"order_id": body["id"]})}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)


class OrderDetailApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(operation_id="orders_retrieve", responses={200: OrderOutputSerializer, 404: ERROR})
    def get(self, request, order_id: int):
        return Response(OrderOutputSerializer(order_get(seller_id=request.auth.seller_id, order_id=order_id)).data)


class OrderCancelApi(APIView):
    required_scopes = {"POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="orders_cancel",
        request=OrderCancelInputSerializer,
        responses={200: OrderOutputSerializer, 404: ERROR, 409: ERROR},
        summary="Cancel an order before it ships",
        description="Releases its stock. 409 `invalid_transition` once the order can no longer be cancelled.",
    )
    def post(self, request, order_id: int):
        serializer = OrderCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_cancel(
            seller_id=request.auth.seller_id,
            order_id=order_id,
            actor=Actor.api_key(request.auth),
            reason=serializer.validated_data["reason"],
        )
        return Response(OrderOutputSerializer(order_get(seller_id=request.auth.seller_id, order_id=order_id)).data)


class OrderReadyForPickupApi(APIView):
    required_scopes = {"POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="orders_ready_for_pickup",
        request=None,
        responses={200: OrderOutputSerializer, 404: ERROR, 409: ERROR},
        summary="Mark a click-and-collect order ready for pickup",
        description="Stamps `ready_for_pickup_at`, emails the customer and sends the `order.ready_for_pickup` "
        "webhook. 409 `order_not_editable` for a shipped order, one still waiting for stock, or one already ready.",
    )
    def post(self, request, order_id: int):
        order_ready_for_pickup(seller_id=request.auth.seller_id, order_id=order_id, actor=Actor.api_key(request.auth))
        return Response(OrderOutputSerializer(order_get(seller_id=request.auth.seller_id, order_id=order_id)).data)


class OrderShippingAddressUpdateApi(APIView):
    required_scopes = {"PUT": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="orders_shipping_address_update",
        request=ShippingAddressSerializer,
        responses={200: OrderOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
        summary="Change the shipping address before the order ships",
        description="Re-routes the order when its warehouses do not ship to the new country. "
        "409 `order_not_editable` once anything has shipped or the order is closed.",
    )
    def put(self, request, order_id: int):
        serializer = ShippingAddressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_shipping_address_update(
            seller_id=request.auth.seller_id,
            order_id=order_id,
            address=address_input(serializer.validated_data),
            actor=Actor.api_key(request.auth),
        )
        return Response(OrderOutputSerializer(order_get(seller_id=request.auth.seller_id, order_id=order_id)).data)


class OrderLineCancelApi(APIView):
    required_scopes = {"POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="orders_line_cancel",
        request=LineCancelInputSerializer,
        responses={200: OrderOutputSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
        summary="Cancel open units of one line",
        description="Releases their stock and lowers the order total (money already captured for them is "
        "refunded; the invoice, if issued already, gets a credit note, unless the last units go and the order is "
        "cancelled). Cancelling the last open units cancels the order. Once the warehouse is picking the order "
        "or part of it has shipped, only units still waiting for stock can be cancelled (400 on `quantity` past "
        "them, 409 `order_not_editable` when none wait), and cancelling the last of them completes the order "
        "with what shipped.",
    )
    def post(self, request, order_id: int, line_id: int):
        serializer = LineCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_line_cancel(
            seller_id=request.auth.seller_id,
            order_id=order_id,
            line_id=line_id,
            quantity=serializer.validated_data["quantity"],
            actor=Actor.api_key(request.auth),
            reason=serializer.validated_data["reason"],
        )
        return Response(OrderOutputSerializer(order_get(seller_id=request.auth.seller_id, order_id=order_id)).data)


class OrderEventListApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="orders_events_list",
        responses={200: OrderEventOutputSerializer(many=True), 404: ERROR},
        summary="The order's timeline, oldest first",
    )
    def get(self, request, order_id: int):
        events = order_events_list(seller_id=request.auth.seller_id, order_id=order_id)
        return Response(OrderEventOutputSerializer(events, many=True).data)
