"""Orders in the admin are read-only: every change goes through a service, which
writes the order's events in the same transaction. The actions call those services."""

from functools import partial

from django.contrib import admin, messages
from django.db.models import Prefetch
from django.urls import path, reverse

from core.actor import Actor
from core.exceptions import ApplicationError
from orders.admin_routing import allocation_override_view, routing_panel
from orders.models import Allocation, Order, OrderEvent, OrderLine
from orders.services import order_cancel, order_transition
from orders.services.allocation import order_ready_for_pickup
from orders.status import Lifecycle
from sellers.admin_scoping import ALL_ROLES, EDITOR_ROLES, SellerScopedAdminMixin, SellerScopedInlineMixin

ADMIN_CANCEL_REASON = "Cancelled in the admin"


class OrderLineInline(SellerScopedInlineMixin, admin.TabularInline):
    model = OrderLine
    fields = (
        "position",
        "sku",
        "name",
        "quantity",
        "quantity_shipped",
        "quantity_cancelled",
        "quantity_returned",
        "quantity_backordered",
        "is_preorder",
        "unit_price",
        "line_total",
        "allocated_from",
    )
    readonly_fields = fields
    extra = 0
    view_roles = ALL_ROLES

    def get_queryset(self, request):
        allocations = Allocation.objects.select_related("stock__warehouse", "stock__product").order_by("pk")
        return super().get_queryset(request).prefetch_related(Prefetch("allocations", queryset=allocations))

    @admin.display(description="allocated from")
    def allocated_from(self, line: OrderLine) -> str:
        # A kit's units are its components'; name them.
        return (
            ", ".join(
                f"{a.quantity} × {a.stock.warehouse.code}"
                + (f" ({a.stock.product.sku})" if a.stock.product_id != line.product_id else "")
                for a in line.allocations.all()
            )
            or "—"
        )


class OrderEventInline(SellerScopedInlineMixin, admin.TabularInline):
    model = OrderEvent
    verbose_name_plural = "timeline"
    fields = ("created_at", "type", "actor_label", "data")
    readonly_fields = fields
    ordering = ("id",)
    extra = 0
    view_roles = ALL_ROLES


@admin.register(Order)
class OrderAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "seller",
        "channel",
        "customer_email",
        "lifecycle",
        "payment_status",
        "fulfillment_status",
        "total",
        "created_at",
    )
    list_select_related = ("seller",)
    list_filter = ("lifecycle", "payment_status", "fulfillment_status", "channel", "seller")
    search_fields = ("number__exact", "external_id", "customer_email", "customer_name")
    ordering = ("-id",)
    show_full_result_count = False
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "seller",
                    "number",
                    "channel",
                    "channel_account",
                    "external_id",
                    "lifecycle",
                    "payment_status",
                    "fulfillment_status",
                )
            },
        ),
        ("Customer", {"fields": ("customer_email", "customer_name", "customer_phone", "customer_note")}),
        (
            "Shipping address",
            {
                "fields": (
                    "ship_name",
                    "ship_company",
                    "ship_line1",
                    "ship_line2",
                    "ship_city",
                    "ship_region",
                    "ship_postal_code",
                    "ship_country",
                    "ship_phone",
                )
            },
        ),
        ("Billing address", {"fields": ("billing_address",)}),
        ("Delivery", {"fields": ("delivery_method", "pickup_warehouse", "ready_for_pickup_at", "delivered_at")}),
        ("Routing", {"fields": ("routing",)}),
        ("Amounts", {"fields": ("subtotal", "shipping_total", "tax_total", "discount_total", "total")}),
        (
            "Dates",
            {"fields": ("placed_at", "confirmed_at", "cancelled_at", "cancel_reason", "completed_at", "updated_at")},
        ),
        ("Metadata", {"fields": ("metadata",)}),
    )
    readonly_fields = tuple(name for _, options in fieldsets for name in options["fields"])
    inlines = (OrderLineInline, OrderEventInline)
    actions = ("cancel_orders", "confirm_orders", "mark_ready_for_pickup")
    view_roles = ALL_ROLES
    # Who may run the actions; nobody edits an order's fields here.
    operator_roles = EDITOR_ROLES

    def has_operate_permission(self, request) -> bool:
        return self.role_allows(request, self.operator_roles)

    @admin.action(description="Cancel selected orders", permissions=["operate"])
    def cancel_orders(self, request, queryset):
        self._apply(request, queryset, done="Cancelled", service=partial(order_cancel, reason=ADMIN_CANCEL_REASON))

    @admin.action(description="Confirm selected orders", permissions=["operate"])
    def confirm_orders(self, request, queryset):
        self._apply(request, queryset, done="Confirmed", service=partial(order_transition, to=Lifecycle.CONFIRMED))

    @admin.action(description="Mark selected click-and-collect orders ready for pickup", permissions=["operate"])
    def mark_ready_for_pickup(self, request, queryset):
        self._apply(request, queryset, done="Ready for pickup:", service=order_ready_for_pickup)

    @admin.display(description="why from these warehouses")
    def routing(self, order: Order) -> str:
        name = f"admin:{self.opts.app_label}_{self.opts.model_name}_allocation"
        url = reverse(name, args=[order.pk]) if order.pk else None
        return routing_panel(order, override_url=url)

    def get_urls(self):
        override = path(
            "<path:object_id>/allocation/",
            self.admin_site.admin_view(partial(allocation_override_view, self)),
            name=f"{self.opts.app_label}_{self.opts.model_name}_allocation",
        )
        return [override, *super().get_urls()]

    def _apply(self, request, queryset, *, done: str, service) -> None:
        """Run ``service`` once per order, each in its own transaction, so one refusal
        does not undo the others; refusals become error messages."""
        actor = Actor.staff(request.user)
        succeeded = []
        for order in self.selection_for_action(request, queryset, self.operator_roles):
            try:
                service(seller_id=order.seller_id, order_id=order.pk, actor=actor)
            except ApplicationError as exc:
                self.message_user(request, f"Order #{order.number} ({order.seller}): {exc.message}", messages.ERROR)
            else:
                succeeded.append(f"#{order.number}")
        if succeeded:
            self.message_user(request, f"{done} {len(succeeded)} order(s): {', '.join(succeeded)}.", messages.SUCCESS)


import orders.admin_checks  # noqa: E402, F401  (registers the holds queue, risk rules and order policies)
from orders import admin_webhooks  # noqa: E402, F401  (registers the webhook subscription and delivery admins)
