import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import IdCursorPagination
from inventory.api.serializers import ProductOutputSerializer
from inventory.selectors import product_availability, product_list
from sellers.models import ApiScope


class ProductFilter(django_filters.FilterSet):
    sku = django_filters.BaseInFilter(field_name="sku", help_text="One SKU or several, comma-separated.")
    is_active = django_filters.BooleanFilter()
    barcode = django_filters.CharFilter()
    updated_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")


class ProductPagination(IdCursorPagination):
    ordering = "id"


class ProductListApi(APIView):
    required_scopes = {"GET": (ApiScope.PRODUCTS_READ,)}

    @extend_schema(
        operation_id="products_list",
        parameters=[ProductFilter],
        responses=ProductOutputSerializer(many=True),
        summary="List products with their availability",
    )
    def get(self, request):
        queryset = ProductFilter(request.query_params, queryset=product_list(seller_id=request.auth.seller_id)).qs
        paginator = ProductPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        availability = product_availability(seller_id=request.auth.seller_id, product_ids=[p.pk for p in page])
        data = ProductOutputSerializer(page, many=True, context={"availability": availability}).data
        return paginator.get_paginated_response(data)


class ProductDetailApi(APIView):
    required_scopes = {"GET": (ApiScope.PRODUCTS_READ,)}

    @extend_schema(operation_id="products_retrieve", responses=ProductOutputSerializer, summary="One product")
    def get(self, request, product_id: int):
        product = get_object_or_404(product_list(seller_id=request.auth.seller_id), pk=product_id)
        availability = product_availability(seller_id=request.auth.seller_id, product_ids=[product.pk])
        return Response(ProductOutputSerializer(product, context={"availability": availability}).data)
