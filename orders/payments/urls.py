from django.urls import path

from orders.payments.api.views import OrderPaymentListApi, OrderRefundCreateApi, StripeWebhookApi

urlpatterns = [
    path("orders/<int:order_id>/payments/", OrderPaymentListApi.as_view(), name="order-payments"),
    path("orders/<int:order_id>/refunds/", OrderRefundCreateApi.as_view(), name="order-refunds"),
    path("stripe/webhook/", StripeWebhookApi.as_view(), name="stripe-webhook"),
]
