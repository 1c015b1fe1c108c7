from django.urls import path

from orders.payments.api.views import (
    OrderPaymentListApi,
    OrderRefundCreateApi,
    StripeSellerWebhookApi,
    StripeWebhookApi,
)

urlpatterns = [
    path("orders/<int:order_id>/payments/", OrderPaymentListApi.as_view(), name="order-payments"),
    path("orders/<int:order_id>/refunds/", OrderRefundCreateApi.as_view(), name="order-refunds"),
    path("stripe/webhook/", StripeWebhookApi.as_view(), name="stripe-webhook"),
    path("stripe/webhook/<slug:seller_slug>/", StripeSellerWebhookApi.as_view(), name="stripe-seller-webhook"),
]
