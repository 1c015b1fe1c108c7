"""The outbox is infrastructure shared by every seller (``seller_id`` is a plain column,
and core imports no app to scope it), so only superusers see it, and nobody edits it:
the relay and the sweep own its rows."""

from django.contrib import admin

from core.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "topic", "aggregate_type", "aggregate_id", "seller_id", "dispatched_at", "attempts")
    list_filter = ("topic", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("=event_id", "=aggregate_id", "topic")
    ordering = ("-id",)
    show_full_result_count = False
    fields = (
        "event_id",
        "topic",
        "seller_id",
        "aggregate_type",
        "aggregate_id",
        "payload",
        "created_at",
        "dispatched_at",
        "attempts",
        "handled",
        "last_error",
    )
    readonly_fields = fields

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
