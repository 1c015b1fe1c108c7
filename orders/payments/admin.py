"""Payments in the admin: read-only rows with their refunds and Stripe ids, scoped to the
staff user's sellers; capture and refund run through the services (and so through
Stripe, with idempotency keys), one payment at a time."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.actor import Actor
from core.exceptions import ApplicationError
from orders.payments.exceptions import PaymentProviderUnavailable
from orders.payments.models import Payment, Refund, StripeEvent
from orders.payments.services import RefundInput, payment_capture, refund_request, refund_submit
from sellers.admin_scoping import (
    ALL_ROLES,
    EDITOR_ROLES,
    MANAGER_ROLES,
    SellerScopedAdminMixin,
    SellerScopedInlineMixin,
)

ADMIN_REFUND_REASON = "Refunded in the admin"


class RefundInline(SellerScopedInlineMixin, admin.TabularInline):
    model = Refund
    fields = (
        "created_at",
        "amount",
        "reason",
        "status",
        "origin",
        "stripe_refund_id",
        "actor_label",
        "failure_message",
    )
    readonly_fields = fields
    ordering = ("id",)
    extra = 0
    view_roles = ALL_ROLES


@admin.register(Payment)
class PaymentAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "stripe_payment_intent_id",
        "order_link",
        "seller",
        "status",
        "amount_authorized",
        "amount_captured",
        "amount_refunded",
        "dispute_reason",
        "created_at",
    )
    list_select_related = ("seller", "order")
    list_filter = ("status", "seller")
    search_fields = ("stripe_payment_intent_id", "stripe_charge_id", "order__number__exact")
    ordering = ("-id",)
    show_full_result_count = False
    fields = (
        "seller",
        "order",
        "stripe_payment_intent_id",
        "stripe_charge_id",
        "status",
        "amount_authorized",
        "amount_captured",
        "amount_refunded",
        "captured_at",
        "voided_at",
        "capture_requested_at",
        "void_requested_at",
        "stripe_synced_at",
        "dispute_reason",
        "disputed_at",
        "failure_message",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (RefundInline,)
    actions = ("capture_payments", "refund_payments")
    view_roles = ALL_ROLES
    capture_roles = EDITOR_ROLES
    refund_roles = MANAGER_ROLES

    @admin.display(description="order", ordering="order__number")
    def order_link(self, payment: Payment) -> str:
        url = reverse("admin:orders_order_change", args=[payment.order_id])
        return format_html('<a href="{}">#{}</a>', url, payment.order.number)

    def has_capture_permission(self, request) -> bool:
        return self.role_allows(request, self.capture_roles)

    def has_refund_permission(self, request) -> bool:
        return self.role_allows(request, self.refund_roles)

    @admin.action(description="Capture selected payments (the order's current total)", permissions=["capture"])
    def capture_payments(self, request, queryset):
        actor = Actor.staff(request.user)
        for payment in self.selection_for_action(request, queryset, self.capture_roles):
            self._report(
                request,
                payment,
                lambda p=payment: payment_capture(payment_id=p.pk, seller_id=p.seller_id, actor=actor),
                done="captured",
            )

    @admin.action(description="Refund what is left of selected payments", permissions=["refund"])
    def refund_payments(self, request, queryset):
        actor = Actor.staff(request.user)
        for payment in self.selection_for_action(request, queryset, self.refund_roles):
            self._report(request, payment, lambda p=payment: self._refund(p, actor), done="refunded")

    @staticmethod
    def _refund(payment: Payment, actor: Actor):
        refund, _ = refund_request(
            seller_id=payment.seller_id,
            order_id=payment.order_id,
            data=RefundInput(amount=None, reason=ADMIN_REFUND_REASON),
            actor=actor,
        )
        return refund_submit(refund_id=refund.pk, actor=actor)

    def _report(self, request, payment: Payment, run, *, done: str) -> None:
        label = f"Payment {payment.stripe_payment_intent_id} (order #{payment.order.number})"
        try:
            run()
        except PaymentProviderUnavailable:
            self.message_user(request, f"{label}: Stripe is unreachable; it is retried shortly.", messages.WARNING)
        except ApplicationError as exc:
            self.message_user(request, f"{label}: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, f"{label} {done}.", messages.SUCCESS)


@admin.register(StripeEvent)
class StripeEventAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """The webhook log. Events for no known payment have no seller: superusers only."""

    list_display = ("event_id", "type", "outcome", "stripe_created", "received_at", "processed_at", "attempts")
    list_filter = ("type", "outcome")
    search_fields = ("event_id",)
    ordering = ("-id",)
    show_full_result_count = False
    fields = (
        "event_id",
        "type",
        "seller",
        "payment",
        "outcome",
        "stripe_created",
        "received_at",
        "processed_at",
        "attempts",
        "last_error",
        "payload",
    )
    readonly_fields = fields
    view_roles = MANAGER_ROLES
