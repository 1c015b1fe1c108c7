from django.urls import path

from orders.finance.api.views import SalesReportApi

urlpatterns = [
    path("reports/sales/", SalesReportApi.as_view(), name="reports-sales"),
]
