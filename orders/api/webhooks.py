"""Webhook subscriptions over the API: a storefront manages its own seller's
subscriptions. The secret is returned in full only by create and rotate-secret."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.models import WEBHOOK_TOPICS, WebhookSubscription
from orders.services.webhook_subscriptions import (
    URL_MAX_LENGTH,
    WebhookSubscriptionInput,
    webhook_secret_rotate,
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_get,
    webhook_subscription_update,
)
from sellers.models import ApiScope

ERROR = OpenApiResponse(description='Error: {"code", "message", "details"}')
TOPICS_HELP = f"Event types to deliver: {', '.join(WEBHOOK_TOPICS)}."


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=URL_MAX_LENGTH, help_text="https URL that receives the POSTs.")
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_TOPICS), allow_empty=False, help_text=TOPICS_HELP
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookSubscriptionUpdateSerializer(WebhookSubscriptionInputSerializer):
    """PATCH: every field optional, an omitted one keeps its value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)


class WebhookSubscriptionOutputSerializer(serializers.ModelSerializer):
    secret_hint = serializers.SerializerMethodField(help_text="The secret's last four characters.")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "topics", "description", "is_active", "secret_hint", "created_at", "updated_at"]

    def get_secret_hint(self, subscription) -> str:
        return f"…{subscription.secret[-4:]}"


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionOutputSerializer):
    class Meta(WebhookSubscriptionOutputSerializer.Meta):
        fields = [*WebhookSubscriptionOutputSerializer.Meta.fields, "secret"]


class WebhookListCreateApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,), "POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="webhooks_list",
        responses=WebhookSubscriptionOutputSerializer(many=True),
        summary="List webhook subscriptions",
    )
    def get(self, request):
        subscriptions = WebhookSubscription.objects.filter(seller_id=request.auth.seller_id).order_by("id")
        return Response(WebhookSubscriptionOutputSerializer(subscriptions, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        request=WebhookSubscriptionInputSerializer,
        responses={201: WebhookSubscriptionWithSecretSerializer, 400: ERROR},
        summary="Subscribe to webhook events",
        description="The response carries the signing `secret`; it is not shown again (rotate it to get a new one).",
    )
    def post(self, request):
        serializer = WebhookSubscriptionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhook_subscription_create(
            seller=request.auth.seller, data=WebhookSubscriptionInput(**serializer.validated_data)
        )
        return Response(WebhookSubscriptionWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED)


class WebhookDetailApi(APIView):
    required_scopes = {
        "GET": (ApiScope.ORDERS_READ,),
        "PATCH": (ApiScope.ORDERS_WRITE,),
        "DELETE": (ApiScope.ORDERS_WRITE,),
    }

    @extend_schema(operation_id="webhooks_retrieve", responses={200: WebhookSubscriptionOutputSerializer, 404: ERROR})
    def get(self, request, subscription_id: int):
        subscription = webhook_subscription_get(seller_id=request.auth.seller_id, subscription_id=subscription_id)
        return Response(WebhookSubscriptionOutputSerializer(subscription).data)

    @extend_schema(
        operation_id="webhooks_update",
        request=WebhookSubscriptionUpdateSerializer,
        responses={200: WebhookSubscriptionOutputSerializer, 400: ERROR, 404: ERROR},
        summary="Change a webhook subscription",
    )
    def patch(self, request, subscription_id: int):
        serializer = WebhookSubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhook_subscription_update(
            seller_id=request.auth.seller_id, subscription_id=subscription_id, **serializer.validated_data
        )
        return Response(WebhookSubscriptionOutputSerializer(subscription).data)

    @extend_schema(operation_id="webhooks_destroy", responses={204: None, 404: ERROR})
    def delete(self, request, subscription_id: int):
        webhook_subscription_delete(seller_id=request.auth.seller_id, subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateApi(APIView):
    required_scopes = {"POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        request=None,
        responses={200: WebhookSubscriptionWithSecretSerializer, 404: ERROR},
        summary="Replace the signing secret",
        description="The old secret stops signing at once; the response carries the new `secret`.",
    )
    def post(self, request, subscription_id: int):
        subscription = webhook_secret_rotate(seller_id=request.auth.seller_id, subscription_id=subscription_id)
        return Response(WebhookSubscriptionWithSecretSerializer(subscription).data)


webhook_urlpatterns = [
    path("webhooks/", WebhookListCreateApi.as_view(), name="webhook-list"),
    path("webhooks/<int:subscription_id>/", WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<int:subscription_id>/rotate-secret/", WebhookSecretRotateApi.as_view(), name="webhook-rotate-secret"
    ),
]
