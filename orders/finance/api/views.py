from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from orders.finance.api.serializers import SalesReportQuerySerializer, SalesReportSerializer
from orders.finance.reports import sales_report
from sellers.models import ApiScope

ERROR = OpenApiResponse(description="See the Error schema.")


class SalesReportApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="reports_sales",
        parameters=[SalesReportQuerySerializer],
        responses={200: SalesReportSerializer, 400: ERROR},
        summary="Sales per currency in a period, converted to the seller's base currency",
        description="Orders placed from `from` to `to` (days in the seller's time zone, both included), "
        "cancelled ones left out, grouped by currency: orders, goods, shipping, discount, tax, gross and net, "
        "and each converted to the base currency with the stored rate valid on `rate_date` (default `to`), "
        "stated with its date and source. A currency with no stored rate is not convertible and left out of "
        "the converted totals (`complete` is then false).",
    )
    def get(self, request):
        query = SalesReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        report = sales_report(
            seller=request.auth.seller, date_from=params["from"], date_to=params["to"], rate_date=params["rate_date"]
        )
        return Response(SalesReportSerializer(report).data)
