import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from core.filters import UtcDateTimeFilter
from core.pagination import IdCursorPagination
from inventory.api.serializers import (
    ProductOutputSerializer,
    RoutingDryRunInputSerializer,
    RoutingDryRunOutputSerializer,
)
from inventory.geocoding import destination_build
from inventory.models import Product
from inventory.selectors import product_availability, product_list, routing_demands, routing_preview
from sellers.models import ApiScope


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    pass


class ProductFilter(django_filters.FilterSet):
    sku = CharInFilter(field_name="sku", help_text="One SKU or several, comma-separated.")
    is_active = django_filters.BooleanFilter()
    barcode = django_filters.CharFilter()
    updated_since = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Product
        fields = []


class ProductPagination(IdCursorPagination):
    ordering = "id"


class ProductListApi(GenericAPIView):
    required_scopes = {"GET": (ApiScope.PRODUCTS_READ,)}
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProductFilter
    pagination_class = ProductPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no seller
            return Product.objects.none()
        return product_list(seller_id=self.request.auth.seller_id)

    @extend_schema(
        operation_id="products_list",
        responses=ProductOutputSerializer(many=True),
        summary="List products with their availability",
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        availability = product_availability(seller_id=request.auth.seller_id, product_ids=[p.pk for p in page])
        data = ProductOutputSerializer(page, many=True, context={"availability": availability}).data
        return self.get_paginated_response(data)


class ProductDetailApi(APIView):
    required_scopes = {"GET": (ApiScope.PRODUCTS_READ,)}

    @extend_schema(operation_id="products_retrieve", responses=ProductOutputSerializer, summary="One product")
    def get(self, request, product_id: int):
        product = get_object_or_404(product_list(seller_id=request.auth.seller_id), pk=product_id)
        availability = product_availability(seller_id=request.auth.seller_id, product_ids=[product.pk])
        return Response(ProductOutputSerializer(product, context={"availability": availability}).data)


class RoutingDryRunApi(APIView):
    required_scopes = {"POST": (ApiScope.PRODUCTS_READ,)}

    @extend_schema(
        operation_id="routing_dry_run",
        request=RoutingDryRunInputSerializer,
        responses=RoutingDryRunOutputSerializer,
        summary="How a basket would be routed to an address",
        description="Uses the seller's routing strategy on current stock, like order placement, but reserves "
        "nothing and writes nothing; what is short is listed in `shortages` instead of refused.",
    )
    def post(self, request):
        serializer = RoutingDryRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address, lines = serializer.validated_data["shipping_address"], serializer.validated_data["lines"]
        seller = request.auth.seller
        preview = routing_preview(
            seller_id=seller.pk,
            demands=routing_demands(seller_id=seller.pk, lines=[(line["sku"], line["quantity"]) for line in lines]),
            destination=destination_build(**address),
            strategy=seller.routing_strategy,
        )
        return Response(RoutingDryRunOutputSerializer(preview).data)
