"""Invoices and credit notes in the admin: read-only (issued documents never change),
scoped to the staff user's sellers, each with its PDF. Staff issue an order's invoice
with the "Issue invoice" action on the orders list."""

from django.contrib import admin, messages
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from core.actor import Actor
from core.exceptions import ApplicationError
from core.views import pdf_response
from orders.invoicing.figures import format_rate
from orders.invoicing.models import (
    CreditNote,
    CreditNoteLine,
    CreditNoteTaxLine,
    DocumentTrigger,
    Invoice,
    InvoiceLine,
    InvoiceTaxLine,
)
from orders.invoicing.selectors import credit_note_get, invoice_get
from orders.invoicing.services import credit_note_pdf, invoice_issue, invoice_pdf
from orders.models import Order
from sellers.admin_scoping import ALL_ROLES, SellerScopedAdminMixin, SellerScopedInlineMixin

LINE_FIELDS = (
    "position",
    "kind",
    "sku",
    "description",
    "quantity",
    "unit_price",
    "rate",
    "net_amount",
    "tax_amount",
    "gross_amount",
)
TAX_LINE_FIELDS = ("rate", "net_amount", "tax_amount", "gross_amount")
DOCUMENT_FIELDSETS = (
    ("Seller", {"fields": ("seller", "seller_name", "seller_address", "seller_tax_id", "seller_email")}),
    ("Buyer", {"fields": ("buyer_name", "buyer_email", "billing_address", "shipping_address")}),
    ("Order", {"fields": ("order_link", "order_placed_at", "order_channel", "order_external_id")}),
    ("Amounts", {"fields": ("prices_include_tax", "net_total", "tax_total", "total")}),
)


class ReadOnlyInline(SellerScopedInlineMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    view_roles = ALL_ROLES

    @admin.display(description="tax rate")
    def rate(self, row) -> str:
        return format_rate(row.tax_rate)


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = readonly_fields = LINE_FIELDS


class InvoiceTaxLineInline(ReadOnlyInline):
    model = InvoiceTaxLine
    verbose_name_plural = "tax per rate"
    fields = readonly_fields = TAX_LINE_FIELDS


class CreditNoteLineInline(ReadOnlyInline):
    model = CreditNoteLine
    fields = readonly_fields = LINE_FIELDS


class CreditNoteTaxLineInline(ReadOnlyInline):
    model = CreditNoteTaxLine
    verbose_name_plural = "tax per rate"
    fields = readonly_fields = TAX_LINE_FIELDS


class DocumentAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """Read-only for everyone, superusers included: nothing here may change."""

    list_select_related = ("seller",)
    ordering = ("-id",)
    show_full_result_count = False
    date_hierarchy = "issued_at"
    view_roles = ALL_ROLES

    def get_readonly_fields(self, request, obj=None):
        return [name for _, options in self.get_fieldsets(request, obj) for name in options["fields"]]

    def get_urls(self):
        pdf = path(
            "<int:object_id>/pdf/",
            self.admin_site.admin_view(self.pdf_view),
            name=f"{self.opts.app_label}_{self.opts.model_name}_pdf",
        )
        return [pdf, *super().get_urls()]

    def pdf_view(self, request, object_id: int):
        document = self.get_queryset(request).filter(pk=object_id).first()
        if document is None or not self.has_view_permission(request, document):
            raise Http404("No such document.")
        # render_pdf: each document admin's own (its stored PDF, rendered once if missing).
        return pdf_response(self.render_pdf(document), f"{document.display_number}.pdf")

    @admin.display(description="PDF")
    def pdf_link(self, document) -> str:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_pdf", args=[document.pk])
        return format_html('<a href="{}">{}.pdf</a>', url, document.display_number)

    @admin.display(description="order", ordering="order_number")
    def order_link(self, document) -> str:
        url = reverse("admin:orders_order_change", args=[document.order_id])
        return format_html('<a href="{}">#{}</a>', url, document.order_number)


@admin.register(Invoice)
class InvoiceAdmin(DocumentAdmin):
    list_display = ("display_number", "seller", "order_link", "buyer_name", "issued_at", "total", "trigger", "pdf_link")
    list_filter = ("trigger", "seller")
    search_fields = ("display_number", "order_number__exact", "buyer_name", "buyer_email")
    fieldsets = (
        (None, {"fields": ("display_number", "number", "issued_at", "trigger", "actor_label", "pdf_link")}),
        *DOCUMENT_FIELDSETS,
    )
    inlines = (InvoiceLineInline, InvoiceTaxLineInline)

    def render_pdf(self, document) -> bytes:
        return invoice_pdf(invoice=invoice_get(seller_id=document.seller_id, invoice_id=document.pk))


@admin.register(CreditNote)
class CreditNoteAdmin(DocumentAdmin):
    list_display = (
        "display_number",
        "seller",
        "invoice_display_number",
        "order_link",
        "buyer_name",
        "issued_at",
        "total",
        "reason",
        "pdf_link",
    )
    list_filter = ("seller",)
    search_fields = ("display_number", "invoice_display_number", "order_number__exact", "refund_reference")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "display_number",
                    "number",
                    "issued_at",
                    "invoice_display_number",
                    "refund_reference",
                    "reason",
                    "actor_label",
                    "pdf_link",
                )
            },
        ),
        *DOCUMENT_FIELDSETS,
    )
    inlines = (CreditNoteLineInline, CreditNoteTaxLineInline)

    def render_pdf(self, document) -> bytes:
        return credit_note_pdf(credit_note=credit_note_get(seller_id=document.seller_id, credit_note_id=document.pk))


@admin.action(description="Issue invoice", permissions=["operate"])
def issue_invoices(modeladmin, request, queryset):
    """Issue each selected order's invoice (an order that has one keeps it), each in its
    own transaction, so one refusal does not undo the others."""
    actor = Actor.staff(request.user)
    issued, existing = [], []
    for order in modeladmin.selection_for_action(request, queryset, modeladmin.operator_roles):
        try:
            result = invoice_issue(
                seller_id=order.seller_id, order_id=order.pk, actor=actor, trigger=DocumentTrigger.MANUAL
            )
        except ApplicationError as exc:
            modeladmin.message_user(request, f"Order #{order.number} ({order.seller}): {exc.message}", messages.ERROR)
            continue
        (issued if result.created else existing).append(result.document.display_number)
    if issued:
        modeladmin.message_user(request, f"Issued {len(issued)} invoice(s): {', '.join(issued)}.", messages.SUCCESS)
    if existing:
        modeladmin.message_user(request, f"Already invoiced: {', '.join(existing)}.", messages.INFO)


def _add_order_action() -> None:
    """The orders admin belongs to the orders app, which must not import this one: the
    action joins its registered admin from here."""
    order_admin = admin.site.get_model_admin(Order)
    if issue_invoices not in order_admin.actions:
        order_admin.actions = (*order_admin.actions, issue_invoices)


_add_order_action()
