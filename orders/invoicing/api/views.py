"""Invoices and credit notes over the API: read them per order or by id, download
their PDFs, and issue an order's invoice by hand (idempotent)."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.actor import Actor
from core.views import pdf_response
from orders.invoicing.api.serializers import (
    CreditNoteDetailSerializer,
    CreditNoteSummarySerializer,
    InvoiceDetailSerializer,
    InvoiceSummarySerializer,
)
from orders.invoicing.models import DocumentTrigger
from orders.invoicing.selectors import credit_note_get, credit_note_list_for_order, invoice_get, invoice_list_for_order
from orders.invoicing.services import credit_note_pdf, invoice_issue, invoice_pdf
from sellers.models import ApiScope

ERROR = OpenApiResponse(description="See the Error schema.")
PDF = OpenApiResponse(response=OpenApiTypes.BINARY, description="The document as PDF, as first rendered.")


class PdfRenderer(BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; the views answer with the
    stored bytes themselves, so this renders nothing."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class PdfApi(APIView):
    renderer_classes = [JSONRenderer, PdfRenderer]
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response):  # an error: always the JSON error shape
            response.accepted_renderer, response.accepted_media_type = JSONRenderer(), "application/json"
        return response


class OrderInvoiceListCreateApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,), "POST": (ApiScope.ORDERS_WRITE,)}

    @extend_schema(
        operation_id="orders_invoices_list",
        responses={200: InvoiceSummarySerializer(many=True), 404: ERROR},
        summary="The order's invoice (a list: none until it is issued)",
    )
    def get(self, request, order_id: int):
        invoices = invoice_list_for_order(seller_id=request.auth.seller_id, order_id=order_id)
        return Response(InvoiceSummarySerializer(invoices, many=True).data)

    @extend_schema(
        operation_id="orders_invoices_issue",
        request=None,
        responses={200: InvoiceDetailSerializer, 201: InvoiceDetailSerializer, 404: ERROR, 409: ERROR},
        summary="Issue the order's invoice now",
        description="Whatever the seller's invoice trigger. Idempotent: an order has one invoice; if it is "
        "already issued it comes back with 200 and no number is used. 409 `invoice_not_allowed` for a draft "
        "or cancelled order.",
    )
    def post(self, request, order_id: int):
        seller_id = request.auth.seller_id
        result = invoice_issue(
            seller_id=seller_id, order_id=order_id, actor=Actor.api_key(request.auth), trigger=DocumentTrigger.MANUAL
        )
        invoice = invoice_get(seller_id=seller_id, invoice_id=result.document.pk)
        if not result.created:
            return Response(InvoiceDetailSerializer(invoice).data)
        headers = {"Location": reverse("invoice-detail", kwargs={"invoice_id": invoice.pk})}
        return Response(InvoiceDetailSerializer(invoice).data, status=status.HTTP_201_CREATED, headers=headers)


class OrderCreditNoteListApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="orders_credit_notes_list",
        responses={200: CreditNoteSummarySerializer(many=True), 404: ERROR},
        summary="The order's credit notes, one per refund, oldest first",
    )
    def get(self, request, order_id: int):
        credit_notes = credit_note_list_for_order(seller_id=request.auth.seller_id, order_id=order_id)
        return Response(CreditNoteSummarySerializer(credit_notes, many=True).data)


class InvoiceDetailApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="invoices_retrieve",
        responses={200: InvoiceDetailSerializer, 404: ERROR},
        summary="One invoice as issued: parties, lines, tax per rate, totals and its credit notes",
    )
    def get(self, request, invoice_id: int):
        return Response(
            InvoiceDetailSerializer(invoice_get(seller_id=request.auth.seller_id, invoice_id=invoice_id)).data
        )


class InvoicePdfApi(PdfApi):
    @extend_schema(
        operation_id="invoices_pdf",
        responses={(200, "application/pdf"): PDF, 404: ERROR},
        summary="The invoice as PDF",
    )
    def get(self, request, invoice_id: int):
        invoice = invoice_get(seller_id=request.auth.seller_id, invoice_id=invoice_id)
        return pdf_response(invoice_pdf(invoice=invoice), f"{invoice.display_number}.pdf", attachment=True)


class CreditNoteDetailApi(APIView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,)}

    @extend_schema(
        operation_id="credit_notes_retrieve",
        responses={200: CreditNoteDetailSerializer, 404: ERROR},
        summary="One credit note as issued",
    )
    def get(self, request, credit_note_id: int):
        credit_note = credit_note_get(seller_id=request.auth.seller_id, credit_note_id=credit_note_id)
        return Response(CreditNoteDetailSerializer(credit_note).data)


class CreditNotePdfApi(PdfApi):
    @extend_schema(
        operation_id="credit_notes_pdf",
        responses={(200, "application/pdf"): PDF, 404: ERROR},
        summary="The credit note as PDF",
    )
    def get(self, request, credit_note_id: int):
        credit_note = credit_note_get(seller_id=request.auth.seller_id, credit_note_id=credit_note_id)
        return pdf_response(
            credit_note_pdf(credit_note=credit_note), f"{credit_note.display_number}.pdf", attachment=True
        )
