"""Payments in the admin: read-only rows with their refunds and Stripe ids, scoped to the
staff user's sellers; capture and refund run through the services (and so through
Stripe, with idempotency keys), one payment at a time."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from core.actor import Actor
from core.crypto import secret_decrypt
from core.exceptions import ApplicationError
from orders.payments.accounts import stripe_account_set
from orders.payments.exceptions import PaymentProviderUnavailable
from orders.payments.models import Payment, Refund, StripeAccount, StripeEvent
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


class StripeAccountForm(forms.ModelForm):
    """The secrets are written, never shown: leave a field empty to keep what is stored."""

    secret_key = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, help_text="sk_… or rk_… (restricted key)."
    )
    webhook_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="whsec_… of the endpoint https://<your host>/api/v1/stripe/webhook/<seller slug>/ in Stripe.",
    )

    class Meta:
        model = StripeAccount
        fields = ("seller",)

    def clean_secret_key(self):
        key = self.cleaned_data["secret_key"].strip()
        if key and not key.startswith(("sk_", "rk_")):
            raise forms.ValidationError("A Stripe secret or restricted key starts with sk_ or rk_.")
        return key

    def clean_webhook_secret(self):
        secret = self.cleaned_data["webhook_secret"].strip()
        if secret and not secret.startswith("whsec_"):
            raise forms.ValidationError("A Stripe webhook signing secret starts with whsec_.")
        return secret

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None and not (cleaned.get("secret_key") and cleaned.get("webhook_secret")):
            raise forms.ValidationError("A new account needs both the secret key and the webhook secret.")
        return cleaned


@admin.register(StripeAccount)
class StripeAccountAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """A seller's own Stripe account; owners only. Stored encrypted (core/crypto.py)."""

    form = StripeAccountForm
    list_display = ("seller", "key_hint", "updated_at")
    readonly_fields = ("key_hint", "created_at", "updated_at")
    view_roles = MANAGER_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        secret_key = data["secret_key"] or secret_decrypt(obj.secret_key_encrypted)
        webhook_secret = data["webhook_secret"] or secret_decrypt(obj.webhook_secret_encrypted)
        saved = stripe_account_set(seller=obj.seller, secret_key=secret_key, webhook_secret=webhook_secret)
        obj.pk = saved.pk
