from django.urls import path

from inventory.api.views import ProductDetailApi, ProductListApi, RoutingDryRunApi

urlpatterns = [
    path("products/", ProductListApi.as_view(), name="product-list"),
    path("products/<int:product_id>/", ProductDetailApi.as_view(), name="product-detail"),
    path("routing/dry-run/", RoutingDryRunApi.as_view(), name="routing-dry-run"),
]
