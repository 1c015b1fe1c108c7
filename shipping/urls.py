from django.urls import path

from shipping.api.views import (
    CarrierTrackingPushApi,
    OrderShipmentListApi,
    RateQuoteApi,
    ShipmentDetailApi,
    ShipmentLabelApi,
    ShipmentPackingSlipApi,
)

urlpatterns = [
    path("orders/<int:order_id>/shipments/", OrderShipmentListApi.as_view(), name="order-shipments"),
    path("shipments/<int:shipment_id>/", ShipmentDetailApi.as_view(), name="shipment-detail"),
    path("shipments/<int:shipment_id>/label/", ShipmentLabelApi.as_view(), name="shipment-label"),
    path("shipments/<int:shipment_id>/packing-slip/", ShipmentPackingSlipApi.as_view(), name="shipment-packing-slip"),
    path("shipping/rates/", RateQuoteApi.as_view(), name="shipping-rates"),
    path(
        "shipping/carriers/<str:carrier>/tracking/",
        CarrierTrackingPushApi.as_view(),
        name="shipping-carrier-tracking",
    ),
]
