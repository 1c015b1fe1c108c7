"""Order checks in the admin: the "holds to review" queue, where staff release or
cancel a held order with a comment (through the hold services, so both are events),
and the per-seller order policy and risk rules, validated before they are saved."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Prefetch
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from core.actor import Actor
from core.exceptions import ApplicationError
from orders.admin import OrderAdmin
from orders.models import HeldOrder, OrderHold, OrderPolicy, RiskRule
from orders.services.holds import order_hold_cancel, order_hold_release
from orders.services.risk import InvalidRuleParams, risk_params_clean
from orders.services.validation import is_country_code
from orders.status import Lifecycle
from sellers.admin_scoping import (
    ALL_ROLES,
    MANAGER_ROLES,
    SellerScopedAdminMixin,
    SellerScopedInlineMixin,
)


class OrderHoldInline(SellerScopedInlineMixin, admin.TabularInline):
    model = OrderHold
    verbose_name_plural = "holds"
    fields = ("created_at", "kind", "reason", "resolution", "resolved_at", "resolved_by", "comment")
    readonly_fields = fields
    extra = 0
    view_roles = ALL_ROLES


# The order page shows its holds, past and open, above the lines and the timeline.
OrderAdmin.inlines = (OrderHoldInline, *OrderAdmin.inlines)


class HoldDecisionForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        help_text="Why; kept on the holds and on the order's timeline.",
    )


@admin.register(HeldOrder)
class HeldOrderAdmin(OrderAdmin):
    """Orders on hold, oldest first, with their open reasons."""

    list_display = ("order_link", "seller", "customer", "total", "reasons", "waiting")
    list_display_links = None
    list_filter = ("seller", "holds__kind")
    ordering = ("created_at", "id")
    inlines = (OrderHoldInline, *OrderAdmin.inlines)
    actions = ("release_holds", "cancel_held_orders")
    decision_template = "admin/orders/heldorder/decide.html"

    def get_queryset(self, request):
        open_holds = OrderHold.objects.filter(resolved_at__isnull=True).order_by("id")
        return (
            super()
            .get_queryset(request)
            .filter(lifecycle=Lifecycle.ON_HOLD)
            .prefetch_related(Prefetch("holds", queryset=open_holds, to_attr="open_holds"))
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="order", ordering="number")
    def order_link(self, order):
        return format_html('<a href="{}">#{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number)

    @admin.display(description="customer", ordering="customer_email")
    def customer(self, order):
        return order.customer_email or order.customer_name or order.ship_name

    @admin.display(description="reasons")
    def reasons(self, order):
        return "; ".join(hold.reason for hold in getattr(order, "open_holds", ())) or "—"

    @admin.display(description="waiting", ordering="created_at")
    def waiting(self, order):
        return timesince(order.created_at, timezone.now())

    @admin.action(description="Release selected orders…", permissions=["operate"])
    def release_holds(self, request, queryset):
        return self._decide(request, queryset, verb="Release", done="Released", service=order_hold_release)

    @admin.action(description="Cancel selected orders…", permissions=["operate"])
    def cancel_held_orders(self, request, queryset):
        return self._decide(request, queryset, verb="Cancel", done="Cancelled", service=order_hold_cancel)

    def _decide(self, request, queryset, *, verb: str, done: str, service):
        """First a page asking for the comment (like Django's delete confirmation), then
        the service once per order, each in its own transaction."""
        form = HoldDecisionForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                self.decision_template,
                {
                    **self.admin_site.each_context(request),
                    "title": f"{verb} held orders",
                    "verb": verb,
                    "opts": self.opts,
                    "orders": list(queryset.select_related("seller")),
                    "form": form,
                    "action": request.POST.get("action", ""),
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                },
            )
        actor = Actor.staff(request.user)
        comment = form.cleaned_data["comment"]
        succeeded = []
        for order in self.selection_for_action(request, queryset, self.operator_roles):
            try:
                service(seller_id=order.seller_id, order_id=order.pk, actor=actor, comment=comment)
            except ApplicationError as exc:
                self.message_user(request, f"Order #{order.number} ({order.seller}): {exc.message}", messages.ERROR)
            else:
                succeeded.append(f"#{order.number}")
        if succeeded:
            self.message_user(request, f"{done} {len(succeeded)} order(s): {', '.join(succeeded)}.", messages.SUCCESS)
        return None


class RiskRuleForm(forms.ModelForm):
    class Meta:
        model = RiskRule
        fields = ("seller", "kind", "is_enabled", "params")
        help_texts = {
            "params": (
                'velocity_email, velocity_address: {"max_orders": 5, "window_minutes": 60}; '
                'duplicate_order: {"window_minutes": 10}; first_order_value: {"USD": "500.00"}; '
                'payment_risk: {"levels": ["elevated", "highest"], "min_score": 75}; country_mismatch: {}. '
                "Left out: the defaults shown."
            )
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind", self.instance.kind)
        if kind and "params" in cleaned and "params" not in self.errors:
            try:
                cleaned["params"] = risk_params_clean(kind=kind, params=cleaned["params"])
            except InvalidRuleParams as exc:
                self.add_error("params", str(exc))
        return cleaned


@admin.register(RiskRule)
class RiskRuleAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    form = RiskRuleForm
    list_display = ("kind", "seller", "is_enabled", "params", "updated_at")
    list_select_related = ("seller",)
    list_filter = ("kind", "is_enabled", "seller")
    ordering = ("seller", "kind")
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES

    def get_readonly_fields(self, request, obj=None):
        # A rule's parameters mean something else under another kind: add a new rule.
        readonly = super().get_readonly_fields(request, obj)
        return readonly + ("kind",) if obj is not None else readonly


def _country_list(value, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise forms.ValidationError(f'{field}: a list of country codes, e.g. ["US", "CA"].')
    codes = [code.strip().upper() for code in value]
    if bad := [code for code in codes if not is_country_code(code)]:
        raise forms.ValidationError(f"{field}: not ISO 3166-1 alpha-2 country codes: {', '.join(bad)}.")
    return sorted(set(codes))


class OrderPolicyForm(forms.ModelForm):
    class Meta:
        model = OrderPolicy
        fields = (
            "seller",
            "max_order_values",
            "max_line_quantity",
            "max_lines",
            "allowed_countries",
            "blocked_countries",
        )

    def clean_max_order_values(self):
        value = self.cleaned_data["max_order_values"] or {}
        if not isinstance(value, dict):
            raise forms.ValidationError('A JSON object of currency to amount, e.g. {"USD": "5000.00"}.')
        cleaned = {}
        for currency, amount in value.items():
            if currency not in settings.WAYBILL_CURRENCIES:
                raise forms.ValidationError(f"{currency!r} is not a supported currency.")
            try:
                limit = Decimal(str(amount))
            except InvalidOperation:
                limit = None
            if isinstance(amount, bool | float) or limit is None or not limit.is_finite() or limit < 0:
                raise forms.ValidationError(f'The {currency} limit must be a decimal string such as "5000.00".')
            cleaned[currency] = str(limit)
        return cleaned

    def clean_allowed_countries(self):
        return _country_list(self.cleaned_data["allowed_countries"] or [], "Allowed countries")

    def clean_blocked_countries(self):
        return _country_list(self.cleaned_data["blocked_countries"] or [], "Blocked countries")


@admin.register(OrderPolicy)
class OrderPolicyAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    form = OrderPolicyForm
    list_display = ("seller", "max_order_values", "max_line_quantity", "max_lines", "updated_at")
    list_select_related = ("seller",)
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES
