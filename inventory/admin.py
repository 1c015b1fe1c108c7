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
from inventory.geocoding import destination_build
from inventory.models import KitComponent, Product, Stock, StockLedgerEntry, Warehouse, Weekday
from inventory.selectors import product_availability, routing_demands, routing_preview
from inventory.services import stock_adjust, warehouse_set_active
from sellers.admin_scoping import (
    ALL_ROLES,
    EDITOR_ROLES,
    MANAGER_ROLES,
    NOBODY,
    SUPERUSERS_ONLY,
    SellerScopedAdminMixin,
    SellerScopedInlineMixin,
)
from sellers.models import Seller

LEDGER_INLINE_LIMIT = 50


class KitComponentInline(SellerScopedInlineMixin, admin.TabularInline):
    model = KitComponent
    fk_name = "kit"
    fields = ("component", "quantity")
    autocomplete_fields = ("component",)
    extra = 0
    verbose_name = "component"
    verbose_name_plural = "kit components (a kit sells from its components' stock)"
    view_roles = ALL_ROLES
    change_roles = EDITOR_ROLES
    add_roles = EDITOR_ROLES
    delete_roles = EDITOR_ROLES


@admin.register(Product)
class ProductAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("sku", "name", "price", "kind", "backorder_policy", "is_active", "seller", "total_available")
    list_select_related = ("seller",)
    list_filter = ("is_active", "kind", "backorder_policy", "seller")
    inlines = (KitComponentInline,)
    search_fields = ("sku", "name", "barcode")
    readonly_fields = ("availability", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("seller", "sku", "name", "barcode", "price", "tax_class", "is_active")}),
        ("Details", {"fields": ("description", "weight_grams", "length_mm", "width_mm", "height_mm")}),
        ("Selling", {"fields": ("kind", "backorder_policy", "preorder_cap", "release_date", "restricted_countries")}),
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


class WarehouseForm(forms.ModelForm):
    shipping_days = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=Warehouse._meta.get_field("shipping_days").help_text,
    )

    class Meta:
        model = Warehouse
        fields = ("shipping_days",)  # the admin adds the fieldsets' fields

    def clean_shipping_days(self) -> list[int]:
        return sorted(self.cleaned_data["shipping_days"])


@admin.register(Warehouse)
class WarehouseAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    form = WarehouseForm
    list_display = ("code", "name", "seller", "city", "country", "priority", "is_pickup_location", "is_active")
    list_select_related = ("seller",)
    list_filter = ("is_active", "is_pickup_location", "country", "seller")
    search_fields = ("code", "name", "city")
    readonly_fields = ("created_at", "updated_at")
    actions = ("close_for_routing", "open_for_routing")
    fieldsets = (
        (None, {"fields": ("seller", "code", "name", "is_active", "is_pickup_location", "priority")}),
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
        ("Shipping", {"fields": ("ships_to", "handling_cost", "cutoff_time", "shipping_days")}),
        ("History", {"fields": ("created_at", "updated_at")}),
    )
    view_roles = ALL_ROLES
    change_roles = EDITOR_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = SUPERUSERS_ONLY

    def save_model(self, request, obj, form, change):
        """Opening or closing a warehouse goes through ``warehouse_set_active``, which
        re-routes its open orders (or fills backorders from it); other fields save."""
        if not change or "is_active" not in form.changed_data:
            return super().save_model(request, obj, form, change)
        active = obj.is_active
        obj.is_active = not active
        super().save_model(request, obj, form, change)
        warehouse_set_active(warehouse=obj, active=active, actor=Actor.staff(request.user))
        obj.is_active = active

    @admin.action(description="Close selected warehouses for routing (open orders move elsewhere)")
    def close_for_routing(self, request, queryset):
        self._set_active(request, queryset, active=False)

    @admin.action(description="Open selected warehouses for routing")
    def open_for_routing(self, request, queryset):
        self._set_active(request, queryset, active=True)

    def _set_active(self, request, queryset, *, active: bool) -> None:
        actor = Actor.staff(request.user)
        chosen = self.selection_for_action(request, queryset, self.change_roles)
        codes = [warehouse_set_active(warehouse=w, active=active, actor=actor).code for w in chosen]
        if not codes:
            return
        state = "open" if active else "closed; their open orders are being routed elsewhere"
        self.message_user(request, f"{', '.join(codes)}: {state}.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dry_run_url": reverse("admin:inventory_routing_dry_run")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        dry_run = path(
            "routing-dry-run/", self.admin_site.admin_view(self.dry_run_view), name="inventory_routing_dry_run"
        )
        return [dry_run, *super().get_urls()]

    def dry_run_view(self, request):
        """How a basket and an address would be routed now, without reserving anything."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        sellers = None if request.user.is_superuser else Seller.objects.filter(pk__in=self.viewable_seller_ids(request))
        form = RoutingDryRunForm(request.POST or None, sellers=sellers)
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                demands = routing_demands(seller_id=data["seller"].pk, lines=data["lines"])
                preview = routing_preview(
                    seller_id=data["seller"].pk,
                    demands=demands,
                    destination=destination_build(
                        country=data["country"], postal_code=data["postal_code"], city=data["city"]
                    ),
                    strategy=data["strategy"] or data["seller"].routing_strategy,
                )
            except ApplicationError as exc:
                form.add_error("lines", "; ".join(sum(exc.details.values(), [])) if exc.details else exc.message)
        context = {
            **self.admin_site.each_context(request),
            "title": "Routing dry run",
            "opts": self.opts,
            "form": form,
            "preview": preview,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/inventory/warehouse/dry_run.html", context)


class RoutingDryRunForm(forms.Form):
    seller = forms.ModelChoiceField(queryset=Seller.objects.all())
    lines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 40}),
        help_text="One line per SKU: the SKU, a space, the quantity (e.g. MUG-01 2).",
    )
    country = forms.CharField(max_length=2, help_text="ISO country code, e.g. US.")
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100, required=False)
    strategy = forms.ChoiceField(
        choices=[
            ("", "The seller's strategy"),
            ("optimal", "optimal"),
            ("nearest", "nearest"),
            ("priority", "priority"),
        ],
        required=False,
    )

    def __init__(self, *args, sellers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sellers is not None:
            self.fields["seller"].queryset = sellers
            if len(sellers) == 1:
                self.fields["seller"].initial = sellers[0]

    def clean_country(self):
        return self.cleaned_data["country"].upper()

    def clean_lines(self):
        lines = []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not raw.strip():
                continue
            parts = raw.split()
            if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) < 1:
                raise forms.ValidationError(f"Line {number}: write a SKU and a quantity of at least 1.")
            lines.append((parts[0], int(parts[1])))
        if not lines:
            raise forms.ValidationError("Add at least one line.")
        return lines


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
