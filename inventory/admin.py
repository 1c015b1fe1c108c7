from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.actor import Actor
from core.exceptions import ApplicationError
from inventory.models import Product, Stock, StockLedgerEntry, Warehouse
from inventory.selectors import product_availability
from inventory.services import stock_adjust
from sellers.admin_scoping import (
    ALL_ROLES,
    EDITOR_ROLES,
    MANAGER_ROLES,
    NOBODY,
    SUPERUSERS_ONLY,
    SellerScopedAdminMixin,
    SellerScopedInlineMixin,
)

LEDGER_INLINE_LIMIT = 50


@admin.register(Product)
class ProductAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("sku", "name", "price", "is_active", "seller", "total_available")
    list_select_related = ("seller",)
    list_filter = ("is_active", "seller")
    search_fields = ("sku", "name", "barcode")
    readonly_fields = ("availability", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("seller", "sku", "name", "barcode", "price", "is_active")}),
        ("Details", {"fields": ("description", "weight_grams", "length_mm", "width_mm", "height_mm")}),
        ("Stock", {"fields": ("availability",)}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    view_roles = ALL_ROLES
    change_roles = EDITOR_ROLES
    add_roles = MANAGER_ROLES
    # Deactivate instead; stock rows and order lines keep their product.
    delete_roles = SUPERUSERS_ONLY

    def get_queryset(self, request):
        # One correlated subquery in the list's single SELECT, evaluated for the page's
        # rows only: no query per row, and no GROUP BY across the joined seller.
        available = (
            Stock.objects.filter(product=OuterRef("pk"), warehouse__is_active=True)
            .values("product")
            .annotate(total=Sum(F("on_hand") - F("allocated")))
            .values("total")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(available_units=Coalesce(Subquery(available, output_field=IntegerField()), Value(0)))
        )

    @admin.display(description="available", ordering="available_units")
    def total_available(self, product: Product) -> int:
        return product.available_units

    @admin.display(description="availability by warehouse")
    def availability(self, product: Product) -> str:
        if product.pk is None:
            return "—"
        warehouses = product_availability(seller_id=product.seller_id, product_ids=[product.pk])[product.pk].warehouses
        if not warehouses:
            return "No stock in any active warehouse."
        return ", ".join(
            f"{w.warehouse_code}: {w.available} available ({w.on_hand} on hand, {w.allocated} allocated)"
            for w in warehouses
        )


@admin.register(Warehouse)
class WarehouseAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "seller", "city", "country", "priority", "is_active")
    list_select_related = ("seller",)
    list_filter = ("is_active", "country", "seller")
    search_fields = ("code", "name", "city")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("seller", "code", "name", "is_active", "priority")}),
        (
            "Address",
            {
                "fields": (
                    "address_line1",
                    "address_line2",
                    "city",
                    "region",
                    "postal_code",
                    "country",
                    "latitude",
                    "longitude",
                )
            },
        ),
        ("Shipping", {"fields": ("ships_to", "handling_cost", "cutoff_time")}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    view_roles = ALL_ROLES
    change_roles = EDITOR_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = SUPERUSERS_ONLY


class LatestLedgerFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:LEDGER_INLINE_LIMIT]


class StockLedgerInline(SellerScopedInlineMixin, admin.TabularInline):
    model = StockLedgerEntry
    formset = LatestLedgerFormSet
    verbose_name_plural = f"latest {LEDGER_INLINE_LIMIT} ledger entries"
    fields = ("created_at", "kind", "quantity", "balance_after", "reason", "reference", "actor_label")
    readonly_fields = fields
    ordering = ("-id",)
    extra = 0
    view_roles = ALL_ROLES


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(label="Change to on hand", help_text="Positive adds units, negative removes them.")
    reason = forms.CharField(max_length=255, help_text="Why: damaged, lost, found, …")

    def __init__(self, *args, product_field, warehouse_field, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields = {"product": product_field, "warehouse": warehouse_field, **self.fields}

    def clean_delta(self):
        delta = self.cleaned_data["delta"]
        if delta == 0:
            raise forms.ValidationError("Must not be 0.")
        return delta

    def clean(self):
        cleaned = super().clean()
        product, warehouse = cleaned.get("product"), cleaned.get("warehouse")
        if product and warehouse and product.seller_id != warehouse.seller_id:
            raise forms.ValidationError("The product and the warehouse belong to different sellers.")
        return cleaned


@admin.register(Stock)
class StockAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("product_sku", "warehouse_code", "on_hand", "allocated", "available", "bin_location")
    list_select_related = ("product", "warehouse")
    list_filter = ("warehouse", "seller")
    search_fields = ("product__sku", "product__name", "bin_location")
    autocomplete_fields = ("product",)
    show_full_result_count = False
    fields = ("product", "warehouse", "on_hand", "allocated", "available", "bin_location", "ledger", "updated_at")
    readonly_fields = ("product", "warehouse", "on_hand", "allocated", "available", "ledger", "updated_at")
    inlines = (StockLedgerInline,)
    view_roles = ALL_ROLES
    # Only the bin location; quantities change through the services and the ledger.
    change_roles = EDITOR_ROLES
    add_roles = NOBODY
    delete_roles = NOBODY

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(available_units=F("on_hand") - F("allocated"))

    @admin.display(description="SKU", ordering="product__sku")
    def product_sku(self, stock: Stock) -> str:
        return stock.product.sku

    @admin.display(description="warehouse", ordering="warehouse__code")
    def warehouse_code(self, stock: Stock) -> str:
        return stock.warehouse.code

    @admin.display(ordering="available_units")
    def available(self, stock: Stock) -> int:
        return stock.available

    @admin.display(description="ledger")
    def ledger(self, stock: Stock) -> str:
        url = reverse("admin:inventory_stockledgerentry_changelist")
        return format_html('<a href="{}?stock__id__exact={}">Every entry of this stock row</a>', url, stock.pk)

    def save_model(self, request, obj, form, change):
        # Never write the quantities read when the form was opened: orders may have
        # reserved units since.
        obj.save(update_fields=["bin_location", "updated_at"])

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_adjust_stock": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        adjust = path("adjust/", self.admin_site.admin_view(self.adjust_view), name="inventory_stock_adjust")
        return [adjust, *super().get_urls()]

    def adjust_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = StockAdjustForm(
            request.POST or None,
            initial=self._adjust_initial(request),
            product_field=self.formfield_for_foreignkey(Stock._meta.get_field("product"), request),
            warehouse_field=self.formfield_for_foreignkey(Stock._meta.get_field("warehouse"), request),
        )
        if request.method == "POST" and form.is_valid():
            product, warehouse = form.cleaned_data["product"], form.cleaned_data["warehouse"]
            try:
                stock = stock_adjust(
                    product=product,
                    warehouse=warehouse,
                    delta=form.cleaned_data["delta"],
                    reason=form.cleaned_data["reason"],
                    actor=Actor.staff(request.user),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    f"{product.sku} in {warehouse.code}: {form.cleaned_data['delta']:+d}, now {stock.on_hand} on hand.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:inventory_stock_change", args=[stock.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust stock",
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/inventory/stock/adjust.html", context)

    def _adjust_initial(self, request) -> dict:
        """Prefill from ``?stock=<id>`` (the link on a stock row), within the user's rows."""
        stock_id = request.GET.get("stock", "")
        stock = self.get_queryset(request).filter(pk=stock_id).first() if stock_id.isdigit() else None
        return {"product": stock.product_id, "warehouse": stock.warehouse_id} if stock else {}


@admin.register(StockLedgerEntry)
class StockLedgerEntryAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "product_sku",
        "warehouse_code",
        "kind",
        "quantity",
        "balance_after",
        "reason",
        "reference",
        "actor_label",
    )
    list_select_related = ("stock__product", "stock__warehouse")
    list_filter = ("kind", "stock__warehouse", "seller")
    search_fields = ("stock__product__sku", "reference")
    show_full_result_count = False
    fields = (
        "product_sku",
        "warehouse_code",
        "kind",
        "quantity",
        "balance_after",
        "reason",
        "reference",
        "actor_kind",
        "actor_label",
        "actor_user",
        "created_at",
    )
    readonly_fields = fields
    view_roles = ALL_ROLES

    @admin.display(description="SKU", ordering="stock__product__sku")
    def product_sku(self, entry: StockLedgerEntry) -> str:
        return entry.stock.product.sku

    @admin.display(description="warehouse", ordering="stock__warehouse__code")
    def warehouse_code(self, entry: StockLedgerEntry) -> str:
        return entry.stock.warehouse.code
