"""Shipping in the admin: the warehouse queue (what to pick today, late first), bulk
actions (wave, pick list, labels, packing slips, mark shipped), the packing screen
where every unit is scanned before the box closes, shipment detail with its tracking
timeline, and the carriers with their rate tables. Every change goes through a
service; every page is scoped to the user's sellers."""

import io
import zipfile
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from core.actor import Actor
from core.exceptions import ApplicationError
from core.views import pdf_response
from sellers.admin_scoping import (
    ALL_ROLES,
    EDITOR_ROLES,
    MANAGER_ROLES,
    SellerScopedAdminMixin,
    SellerScopedInlineMixin,
    seller_ids_with,
    union,
)
from shipping.documents import packing_slip_pdf
from shipping.models import (
    CarrierAccount,
    Parcel,
    PickWave,
    Shipment,
    ShipmentLine,
    ShippingZone,
    TableRate,
    TrackingEvent,
)
from shipping.selectors import shipments_for_documents, warehouse_queue
from shipping.services.documents import packing_slips, pick_list, wave_pick_list
from shipping.services.labels import shipment_label_buy
from shipping.services.shipments import (
    shipment_collect,
    shipment_pack,
    shipment_pick_start,
    shipment_scan,
    shipment_ship,
)
from shipping.services.waves import wave_create
from shipping.status import ShipmentStatus


class ShipmentLineInline(SellerScopedInlineMixin, admin.TabularInline):
    model = ShipmentLine
    fields = ("sku", "name", "bin_location", "barcode", "quantity", "quantity_packed", "order_line")
    readonly_fields = fields
    extra = 0
    view_roles = ALL_ROLES


class ParcelInline(SellerScopedInlineMixin, admin.TabularInline):
    model = Parcel
    fields = ("weight_grams", "length_mm", "width_mm", "height_mm")
    readonly_fields = fields
    extra = 0
    view_roles = ALL_ROLES


class TrackingEventInline(SellerScopedInlineMixin, admin.TabularInline):
    model = TrackingEvent
    verbose_name_plural = "tracking timeline"
    fields = ("occurred_at", "status", "message", "location", "source")
    readonly_fields = fields
    ordering = ("occurred_at", "id")
    extra = 0
    view_roles = ALL_ROLES


class LateFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return (("late", "Late"), ("today", "Due today or late"))

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_ = queryset.filter(status__in=(ShipmentStatus.PENDING, ShipmentStatus.PICKING, ShipmentStatus.PACKED))
        if self.value() == "late":
            return open_.filter(ship_by__lt=today)
        if self.value() == "today":
            return open_.filter(ship_by__lte=today)
        return queryset


@admin.register(Shipment)
class ShipmentAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "order_link",
        "warehouse",
        "status",
        "due",
        "carrier",
        "service_name",
        "tracking_number",
        "wave",
        "seller",
    )
    list_select_related = ("order", "warehouse", "carrier", "wave", "seller")
    list_filter = (LateFilter, "status", "warehouse", "carrier", "seller")
    search_fields = ("number__exact", "order__number__exact", "tracking_number", "order__customer_email")
    ordering = ("ship_by", "pk")
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("seller", "number", "order_link", "warehouse", "status", "ship_by", "wave", "documents")}),
        (
            "Carrier",
            {
                "fields": (
                    "carrier",
                    "service_code",
                    "service_name",
                    "max_transit_days",
                    "transit_days",
                    "postage",
                    "tracking_number",
                    "tracking_url",
                    "label_url",
                )
            },
        ),
        ("Dates", {"fields": ("picking_started_at", "packed_at", "label_bought_at", "shipped_at", "delivered_at")}),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])
    inlines = (ShipmentLineInline, ParcelInline, TrackingEventInline)
    actions = (
        "create_wave",
        "print_pick_list",
        "print_packing_slips",
        "buy_labels",
        "print_labels",
        "mark_shipped",
        "mark_collected",
    )
    view_roles = ALL_ROLES
    operator_roles = EDITOR_ROLES
    change_list_template = "admin/shipping/shipment/change_list.html"

    def has_operate_permission(self, request) -> bool:
        return self.role_allows(request, self.operator_roles)

    @admin.display(description="order", ordering="order__number")
    def order_link(self, shipment: Shipment) -> str:
        url = reverse("admin:orders_order_change", args=[shipment.order_id])
        return format_html('<a href="{}">#{}</a>', url, shipment.order.number)

    @admin.display(description="ship by", ordering="ship_by")
    def due(self, shipment: Shipment) -> str:
        late = shipment.status in (ShipmentStatus.PENDING, ShipmentStatus.PICKING, ShipmentStatus.PACKED) and (
            shipment.ship_by < timezone.localdate()
        )
        if late:
            return format_html('<strong style="color:#ba2121">{} (late)</strong>', shipment.ship_by)
        return str(shipment.ship_by)

    @admin.display(description="documents")
    def documents(self, shipment: Shipment) -> str:
        if shipment.pk is None:
            return "—"
        links = [
            (reverse("admin:shipping_shipment_pack", args=[shipment.pk]), "Packing screen"),
            (reverse("admin:shipping_shipment_packing_slip", args=[shipment.pk]), "Packing slip (PDF)"),
        ]
        if shipment.label_pdf:
            links.append((reverse("admin:shipping_shipment_label", args=[shipment.pk]), "Label (PDF)"))
        return format_html(" · ".join(['<a href="{}">{}</a>'] * len(links)), *[x for link in links for x in link])

    # -- actions ---------------------------------------------------------------------
    def _selection(self, request, queryset) -> list[Shipment]:
        return self.selection_for_action(request, queryset, self.operator_roles)

    def _each(self, request, shipments, *, done: str, service) -> None:
        actor = Actor.staff(request.user)
        succeeded = []
        for shipment in shipments:
            try:
                service(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=actor)
            except ApplicationError as exc:
                self.message_user(request, f"Shipment {shipment.number}: {exc.message}", messages.ERROR)
            else:
                succeeded.append(str(shipment.number))
        if succeeded:
            self.message_user(request, f"{done} {len(succeeded)}: {', '.join(succeeded)}.", messages.SUCCESS)

    @admin.action(description="Create a pick wave (one per warehouse) and start picking", permissions=["operate"])
    def create_wave(self, request, queryset):
        per_seller_warehouse: dict[tuple[int, int], list[int]] = defaultdict(list)
        for shipment in self._selection(request, queryset):
            per_seller_warehouse[(shipment.seller_id, shipment.warehouse_id)].append(shipment.pk)
        for (seller_id, _), ids in per_seller_warehouse.items():
            try:
                wave = wave_create(seller_id=seller_id, shipment_ids=ids, actor=Actor.staff(request.user))
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, f"Wave {wave.number}: {len(ids)} shipment(s) to pick.", messages.SUCCESS)

    @admin.action(description="Print pick list (PDF)")
    def print_pick_list(self, request, queryset):
        shipments = shipments_for_documents(shipment_ids=[s.pk for s in queryset])
        return pdf_response(pick_list(shipments=shipments, title="Pick list"), "pick-list.pdf")

    @admin.action(description="Print packing slips (PDF)")
    def print_packing_slips(self, request, queryset):
        shipments = shipments_for_documents(shipment_ids=[s.pk for s in queryset])
        return pdf_response(packing_slip_pdf(packing_slips(shipments)), "packing-slips.pdf")

    @admin.action(description="Buy labels (cheapest service that keeps the promised speed)", permissions=["operate"])
    def buy_labels(self, request, queryset):
        self._each(request, self._selection(request, queryset), done="Labels bought for", service=shipment_label_buy)

    @admin.action(description="Print labels (a ZIP of PDFs)")
    def print_labels(self, request, queryset):
        shipments = [s for s in queryset.order_by("pk") if s.label_pdf]
        if not shipments:
            self.message_user(request, "None of the selected shipments has a label yet.", messages.WARNING)
            return None
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for shipment in shipments:
                archive.writestr(f"label-{shipment.number}-{shipment.tracking_number}.pdf", bytes(shipment.label_pdf))
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="labels.zip"'
        return response

    @admin.action(description="Mark shipped (packed shipments with a label)", permissions=["operate"])
    def mark_shipped(self, request, queryset):
        self._each(request, self._selection(request, queryset), done="Shipped", service=shipment_ship)

    @admin.action(description="Mark collected (packed click-and-collect boxes handed over)", permissions=["operate"])
    def mark_collected(self, request, queryset):
        self._each(request, self._selection(request, queryset), done="Collected", service=shipment_collect)

    # -- pages -----------------------------------------------------------------------
    def get_urls(self):
        def view(name, pattern, fn):
            return path(pattern, self.admin_site.admin_view(fn), name=f"shipping_shipment_{name}")

        return [
            view("queue", "queue/", self.queue_view),
            view("pack", "<int:shipment_id>/pack/", self.pack_view),
            view("label", "<int:shipment_id>/label.pdf", self.label_view),
            view("packing_slip", "<int:shipment_id>/packing-slip.pdf", self.packing_slip_view),
            *super().get_urls(),
        ]

    def _shipment(self, request, shipment_id: int) -> Shipment:
        shipment = self.get_queryset(request).filter(pk=shipment_id).first()
        if shipment is None:
            raise Http404("No such shipment.")
        return shipment

    def label_view(self, request, shipment_id: int):
        shipment = self._shipment(request, shipment_id)
        if not shipment.label_pdf:
            raise Http404("This shipment has no label.")
        return pdf_response(bytes(shipment.label_pdf), f"label-{shipment.tracking_number}.pdf")

    def packing_slip_view(self, request, shipment_id: int):
        shipment = self._shipment(request, shipment_id)
        return pdf_response(
            packing_slip_pdf(packing_slips(shipments_for_documents(shipment_ids=[shipment.pk]))), "slip.pdf"
        )

    def queue_view(self, request):
        """Per warehouse: what is due today or late, late first."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        seller_ids = (
            list(self.get_queryset(request).values_list("seller_id", flat=True).distinct())
            if request.user.is_superuser
            else seller_ids_with(request, union(self.view_roles, self.change_roles))
        )
        today = timezone.localdate()
        per_warehouse: dict[str, dict] = {}
        for shipment in warehouse_queue(seller_ids=seller_ids, today=today):
            entry = per_warehouse.setdefault(
                shipment.warehouse.code,
                {"warehouse": shipment.warehouse, "shipments": [], "late": 0, "by_status": defaultdict(int)},
            )
            entry["shipments"].append(shipment)
            entry["late"] += shipment.ship_by < today
            entry["by_status"][shipment.get_status_display()] += 1
        context = {
            **self.admin_site.each_context(request),
            "title": "Warehouse queue",
            "opts": self.opts,
            "today": today,
            "warehouses": [
                {**entry, "by_status": dict(entry["by_status"])} for _, entry in sorted(per_warehouse.items())
            ],
        }
        return TemplateResponse(request, "admin/shipping/shipment/queue.html", context)

    def pack_view(self, request, shipment_id: int):
        """Scan every unit into the box; a wrong item or one too many is refused."""
        shipment = self._shipment(request, shipment_id)
        can_operate = self.role_allows(request, self.operator_roles, shipment)
        form = ScanForm(request.POST or None)
        if request.method == "POST":
            if not can_operate:
                raise PermissionDenied
            actor = Actor.staff(request.user)
            try:
                if "start" in request.POST:
                    shipment_pick_start(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=actor)
                elif "close" in request.POST:
                    shipment_pack(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=actor)
                    self.message_user(request, f"Shipment {shipment.number} is packed.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:shipping_shipment_change", args=[shipment.pk]))
                elif form.is_valid():
                    result = shipment_scan(
                        seller_id=shipment.seller_id,
                        shipment_id=shipment.pk,
                        code=form.cleaned_data["code"],
                        quantity=form.cleaned_data["quantity"],
                    )
                    note = " Everything is in: close the box." if result.complete else ""
                    self.message_user(
                        request,
                        f"{result.line.sku}: {result.scanned} of {result.needed} scanned.{note}",
                        messages.SUCCESS,
                    )
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:shipping_shipment_pack", args=[shipment.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Pack shipment {shipment.number}",
            "opts": self.opts,
            "shipment": shipment,
            "lines": list(shipment.lines.order_by("bin_location", "sku", "pk")),
            "form": form,
            "can_operate": can_operate,
        }
        return TemplateResponse(request, "admin/shipping/shipment/pack.html", context)


class ScanForm(forms.Form):
    code = forms.CharField(max_length=64, label="Barcode or SKU", widget=forms.TextInput(attrs={"autofocus": True}))
    quantity = forms.IntegerField(min_value=1, max_value=10_000, initial=1)


@admin.register(PickWave)
class PickWaveAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "warehouse", "carrier", "status", "shipment_count", "created_by", "created_at", "seller")
    list_select_related = ("warehouse", "carrier", "seller")
    list_filter = ("status", "warehouse", "seller")
    fields = ("seller", "number", "warehouse", "carrier", "status", "created_by", "created_at", "pick_list_link")
    readonly_fields = fields
    view_roles = ALL_ROLES

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(shipment_total=Count("shipments"))

    @admin.display(description="shipments", ordering="shipment_total")
    def shipment_count(self, wave: PickWave) -> int:
        return wave.shipment_total

    @admin.display(description="pick list")
    def pick_list_link(self, wave: PickWave) -> str:
        if wave.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Pick list (PDF)</a>', reverse("admin:shipping_pickwave_pick_list", args=[wave.pk])
        )

    def get_urls(self):
        pick = path(
            "<int:wave_id>/pick-list.pdf",
            self.admin_site.admin_view(self.pick_list_view),
            name="shipping_pickwave_pick_list",
        )
        return [pick, *super().get_urls()]

    def pick_list_view(self, request, wave_id: int):
        wave = self.get_queryset(request).filter(pk=wave_id).first()
        if wave is None:
            raise Http404("No such wave.")
        shipments = shipments_for_documents(shipment_ids=list(wave.shipments.values_list("pk", flat=True)))
        return pdf_response(wave_pick_list(wave, shipments), f"pick-list-wave-{wave.number}.pdf")


class TableRateInline(SellerScopedInlineMixin, admin.TabularInline):
    model = TableRate
    fields = ("service_code", "service_name", "transit_days", "max_weight_grams", "price")
    extra = 1
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES


@admin.register(ShippingZone)
class ShippingZoneAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "carrier", "countries", "postal_prefixes", "seller")
    list_select_related = ("carrier", "seller")
    list_filter = ("carrier", "seller")
    fields = ("seller", "carrier", "name", "countries", "postal_prefixes")
    inlines = (TableRateInline,)
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES

    def save_model(self, request, obj, form, change):
        if obj.carrier_id and obj.carrier.seller_id != obj.seller_id:
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        for rate in formset.save(commit=False):
            rate.seller_id = form.instance.seller_id
            rate.save()
        for rate in formset.deleted_objects:
            rate.delete()


@admin.register(CarrierAccount)
class CarrierAccountAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "kind", "is_active", "seller")
    list_select_related = ("seller",)
    list_filter = ("kind", "is_active", "seller")
    fields = ("seller", "code", "name", "kind", "tracking_url_template", "is_active")
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
