from django.urls import path

from orders.invoicing.api.views import (
    CreditNoteDetailApi,
    CreditNotePdfApi,
    InvoiceDetailApi,
    InvoicePdfApi,
    OrderCreditNoteListApi,
    OrderInvoiceListCreateApi,
)

urlpatterns = [
    path("orders/<int:order_id>/invoices/", OrderInvoiceListCreateApi.as_view(), name="order-invoices"),
    path("orders/<int:order_id>/credit-notes/", OrderCreditNoteListApi.as_view(), name="order-credit-notes"),
    path("invoices/<int:invoice_id>/", InvoiceDetailApi.as_view(), name="invoice-detail"),
    path("invoices/<int:invoice_id>/pdf/", InvoicePdfApi.as_view(), name="invoice-pdf"),
    path("credit-notes/<int:credit_note_id>/", CreditNoteDetailApi.as_view(), name="credit-note-detail"),
    path("credit-notes/<int:credit_note_id>/pdf/", CreditNotePdfApi.as_view(), name="credit-note-pdf"),
]
