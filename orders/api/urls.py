from django.urls import path

from orders.api.views import (
    OrderCancelApi,
    OrderDetailApi,
    OrderEventListApi,
    OrderLineCancelApi,
    OrderListCreateApi,
    OrderReadyForPickupApi,
    OrderShippingAddressUpdateApi,
)
from orders.api.webhooks import webhook_urlpatterns

urlpatterns = [
    path("orders/", OrderListCreateApi.as_view(), name="order-list"),
    path("orders/<int:order_id>/", OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/cancel/", OrderCancelApi.as_view(), name="order-cancel"),
    path(
        "orders/<int:order_id>/shipping-address/",
        OrderShippingAddressUpdateApi.as_view(),
        name="order-shipping-address",
    ),
    path("orders/<int:order_id>/lines/<int:line_id>/cancel/", OrderLineCancelApi.as_view(), name="order-line-cancel"),
    path("orders/<int:order_id>/ready-for-pickup/", OrderReadyForPickupApi.as_view(), name="order-ready-for-pickup"),
    path("orders/<int:order_id>/events/", OrderEventListApi.as_view(), name="order-events"),
]
urlpatterns += webhook_urlpatterns
