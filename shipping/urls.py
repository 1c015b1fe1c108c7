from django.urls import path

from shipping.api.views import (
    CarrierTrackingPushApi,
    OrderShipmentListApi,
    RateQuoteApi,
    ShipmentCollectApi,
    ShipmentDetailApi,
    ShipmentLabelApi,
    ShipmentPackApi,
    ShipmentPackingSlipApi,
    ShipmentPickApi,
    ShipmentScanApi,
    ShipmentShipApi,
)

urlpatterns = [
    path("orders/<int:order_id>/shipments/", OrderShipmentListApi.as_view(), name="order-shipments"),
    path("shipments/<int:shipment_id>/", ShipmentDetailApi.as_view(), name="shipment-detail"),
    path("shipments/<int:shipment_id>/label/", ShipmentLabelApi.as_view(), name="shipment-label"),
    path("shipments/<int:shipment_id>/packing-slip/", ShipmentPackingSlipApi.as_view(), name="shipment-packing-slip"),
    path("shipments/<int:shipment_id>/pick/", ShipmentPickApi.as_view(), name="shipment-pick"),
    path("shipments/<int:shipment_id>/scan/", ShipmentScanApi.as_view(), name="shipment-scan"),
    path("shipments/<int:shipment_id>/pack/", ShipmentPackApi.as_view(), name="shipment-pack"),
    path("shipments/<int:shipment_id>/ship/", ShipmentShipApi.as_view(), name="shipment-ship"),
    path("shipments/<int:shipment_id>/collect/", ShipmentCollectApi.as_view(), name="shipment-collect"),
    path("shipping/rates/", RateQuoteApi.as_view(), name="shipping-rates"),
    path(
        "shipping/carriers/<str:carrier>/tracking/",
        CarrierTrackingPushApi.as_view(),
        name="shipping-carrier-tracking",
    ),
]
