"""Webhook subscriptions and their delivery log in the admin, scoped to the staff
user's sellers. Subscriptions are written through the services (the secret is generated
there); the delivery log is read-only, with a retry action."""

from django import forms
from django.contrib import admin, messages

from orders.models import WEBHOOK_TOPICS, WebhookDelivery, WebhookSubscription
from orders.services.webhook_subscriptions import (
    URL_MAX_LENGTH,
    WebhookSubscriptionInput,
    webhook_secret_rotate,
    webhook_subscription_create,
    webhook_subscription_update,
    webhook_url_problems,
)
from orders.services.webhooks import webhook_delivery_retry
from sellers.admin_scoping import ALL_ROLES, EDITOR_ROLES, MANAGER_ROLES, SellerScopedAdminMixin


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=URL_MAX_LENGTH, assume_scheme="https")
    topics = forms.MultipleChoiceField(
        choices=[(topic, topic) for topic in WEBHOOK_TOPICS], widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = WebhookSubscription
        fields = ("seller", "url", "topics", "description", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        if problems := webhook_url_problems(url=url):
            raise forms.ValidationError(problems)
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("url", "seller", "topic_list", "is_active", "created_at")
    list_select_related = ("seller",)
    list_filter = ("is_active", "seller")
    search_fields = ("url", "description")
    ordering = ("-id",)
    readonly_fields = ("secret", "created_at", "updated_at")
    actions = ("rotate_secrets",)
    # The secret lets its holder forge deliveries: managers and owners only.
    view_roles = MANAGER_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES

    def get_fields(self, request, obj=None):
        fields = ["seller", "url", "topics", "description", "is_active"]
        return fields if obj is None else [*fields, "secret", "created_at", "updated_at"]

    @admin.display(description="topics")
    def topic_list(self, subscription: WebhookSubscription) -> str:
        return ", ".join(subscription.topics)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            saved = webhook_subscription_update(
                seller_id=obj.seller_id,
                subscription_id=obj.pk,
                url=data["url"],
                topics=data["topics"],
                description=data["description"],
                is_active=data["is_active"],
            )
        else:
            saved = webhook_subscription_create(
                seller=data["seller"],
                data=WebhookSubscriptionInput(
                    url=data["url"], topics=data["topics"], description=data["description"], is_active=data["is_active"]
                ),
            )
        obj.pk, obj.secret = saved.pk, saved.secret

    @admin.action(description="Rotate the signing secret", permissions=["change"])
    def rotate_secrets(self, request, queryset):
        rotated = 0
        for subscription in self.selection_for_action(request, queryset, self.change_roles):
            webhook_secret_rotate(seller_id=subscription.seller_id, subscription_id=subscription.pk)
            rotated += 1
        if rotated:
            self.message_user(
                request, f"New secret for {rotated} subscription(s); update the receivers.", messages.SUCCESS
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "topic",
        "subscription",
        "seller",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "delivered_at",
    )
    list_select_related = ("seller", "subscription")
    list_filter = ("status", "topic", "seller")
    search_fields = ("subscription__url", "event__event_id")
    ordering = ("-id",)
    show_full_result_count = False
    fields = (
        "seller",
        "subscription",
        "event_id",
        "topic",
        "status",
        "attempts",
        "response_status",
        "response_excerpt",
        "last_error",
        "duration_ms",
        "created_at",
        "updated_at",
        "delivered_at",
    )
    readonly_fields = fields
    actions = ("retry_deliveries",)
    view_roles = ALL_ROLES
    operator_roles = EDITOR_ROLES

    def has_operate_permission(self, request) -> bool:
        return self.role_allows(request, self.operator_roles)

    @admin.display(description="event id")
    def event_id(self, delivery: WebhookDelivery) -> str:
        return str(delivery.event.event_id)

    @admin.action(description="Retry selected deliveries", permissions=["operate"])
    def retry_deliveries(self, request, queryset):
        queued, refused = 0, 0
        for delivery in self.selection_for_action(request, queryset, self.operator_roles):
            if webhook_delivery_retry(seller_id=delivery.seller_id, delivery_id=delivery.pk):
                queued += 1
            else:
                refused += 1
        if queued:
            self.message_user(request, f"Queued {queued} delivery(ies) for another attempt.", messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                f"{refused} skipped: only failed or abandoned deliveries of active subscriptions are retried.",
                messages.WARNING,
            )
