from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api import json_not_found
from core.views import health, not_found_or_html, server_error_or_html

admin.site.site_header = "Waybill"
admin.site.site_title = "Waybill"
admin.site.index_title = "Order management"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("inventory.api.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("api/v1/", include("orders.payments.urls")),
    path("api/v1/", include("orders.invoicing.urls")),
    path("api/v1/", include("orders.finance.urls")),
    path("api/v1/", include("shipping.urls")),
    path("api/v1/<path:unknown>", json_not_found),
    path("health/", health, name="health"),
]

handler404 = not_found_or_html
handler500 = server_error_or_html
