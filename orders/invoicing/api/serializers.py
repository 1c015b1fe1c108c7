from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import MoneyField
from orders.invoicing.models import CreditNote, Invoice


class DocumentLineOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField()
    sku = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    tax_rate = serializers.DecimalField(
        max_digits=8, decimal_places=5, allow_null=True, help_text="A fraction; null for tax not itemised."
    )
    net_amount = MoneyField()
    tax_amount = MoneyField()
    gross_amount = MoneyField()


class TaxLineOutputSerializer(serializers.Serializer):
    tax_rate = serializers.DecimalField(max_digits=8, decimal_places=5, allow_null=True)
    net_amount = MoneyField()
    tax_amount = MoneyField()
    gross_amount = MoneyField()


class _DocumentSummarySerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField()
    net_total = MoneyField()
    tax_total = MoneyField()
    total = MoneyField()
    url = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    url_names: tuple[str, str]
    url_kwarg: str

    summary_fields = [
        "id",
        "number",
        "display_number",
        "order_id",
        "order_number",
        "issued_at",
        "currency",
        "net_total",
        "tax_total",
        "total",
        "url",
        "pdf_url",
    ]

    @extend_schema_field(serializers.CharField(help_text="This document in the API."))
    def get_url(self, document) -> str:
        return reverse(self.url_names[0], kwargs={self.url_kwarg: document.pk})

    @extend_schema_field(serializers.CharField(help_text="Its PDF (application/pdf)."))
    def get_pdf_url(self, document) -> str:
        return reverse(self.url_names[1], kwargs={self.url_kwarg: document.pk})


class CreditNoteSummarySerializer(_DocumentSummarySerializer):
    invoice_id = serializers.IntegerField()
    url_names = ("credit-note-detail", "credit-note-pdf")
    url_kwarg = "credit_note_id"

    class Meta:
        model = CreditNote
        fields = [
            *_DocumentSummarySerializer.summary_fields,
            "invoice_id",
            "invoice_display_number",
            "refund_reference",
            "reason",
        ]


class InvoiceSummarySerializer(_DocumentSummarySerializer):
    url_names = ("invoice-detail", "invoice-pdf")
    url_kwarg = "invoice_id"

    class Meta:
        model = Invoice
        fields = [*_DocumentSummarySerializer.summary_fields, "trigger"]


class _PartiesMixin(serializers.Serializer):
    seller = serializers.SerializerMethodField()
    buyer = serializers.SerializerMethodField()
    lines = DocumentLineOutputSerializer(many=True, read_only=True)
    tax_lines = TaxLineOutputSerializer(many=True, read_only=True)

    detail_fields = ["prices_include_tax", "seller", "buyer", "order_placed_at", "lines", "tax_lines"]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "address": {"type": "string"},
                "tax_id": {"type": "string"},
                "email": {"type": "string"},
            },
        }
    )
    def get_seller(self, document) -> dict:
        return {
            "name": document.seller_name,
            "address": document.seller_address,
            "tax_id": document.seller_tax_id,
            "email": document.seller_email,
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string"},
                "billing_address": {"type": "object", "additionalProperties": True},
                "shipping_address": {"type": "object", "additionalProperties": True},
            },
        }
    )
    def get_buyer(self, document) -> dict:
        return {
            "name": document.buyer_name,
            "email": document.buyer_email,
            "billing_address": document.billing_address,
            "shipping_address": document.shipping_address,
        }


class InvoiceDetailSerializer(_PartiesMixin, InvoiceSummarySerializer):
    credit_notes = CreditNoteSummarySerializer(many=True, read_only=True)

    class Meta:
        model = Invoice
        fields = [*InvoiceSummarySerializer.Meta.fields, *_PartiesMixin.detail_fields, "credit_notes"]


class CreditNoteDetailSerializer(_PartiesMixin, CreditNoteSummarySerializer):
    class Meta:
        model = CreditNote
        fields = [*CreditNoteSummarySerializer.Meta.fields, *_PartiesMixin.detail_fields]
