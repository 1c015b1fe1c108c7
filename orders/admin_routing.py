"""The order page's routing panel: why the order's stock comes from where it does, and
the staff override that moves a line to another warehouse."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe

from core.actor import Actor
from core.exceptions import ApplicationError
from inventory.models import Stock, Warehouse
from orders.models import EventType, Order, OrderEvent, OrderLine
from orders.services.allocation import MOVABLE_LIFECYCLES, order_allocation_override

# Events that say where an order's stock was taken from, newest wins.
ROUTING_EVENTS = (
    EventType.STOCK_ALLOCATED,
    EventType.BACKORDER_ALLOCATED,
    EventType.REROUTED,
    EventType.ALLOCATION_OVERRIDDEN,
)


def routing_panel(order: Order, *, override_url: str | None) -> str:
    """The latest routing decisions with their candidates, rendered for the order page."""
    events = list(
        OrderEvent.objects.filter(order=order, type__in=ROUTING_EVENTS)
        .order_by("-id")[:5]
        .values("type", "created_at", "actor_label", "data")
    )
    return mark_safe(  # noqa: S308 -- the template escapes every value
        render_to_string(
            "admin/orders/order/routing_panel.html",
            {
                "events": [{**e, "label": EventType(e["type"]).label} for e in events],
                "override_url": override_url if order.lifecycle in MOVABLE_LIFECYCLES else None,
            },
        )
    )


class AllocationOverrideForm(forms.Form):
    reason = forms.CharField(max_length=255, required=False, help_text="Kept with the change in the timeline.")

    def __init__(self, *args, lines: list[OrderLine], warehouses: list[Warehouse], available: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            choices = [("", "— keep as it is —")] + [
                (w.pk, f"{w.code} ({available.get((line.product_id, w.pk), 0)} available)") for w in warehouses
            ]
            self.fields[f"line_{line.pk}"] = forms.TypedChoiceField(
                label=f"{line.sku} × {line.quantity_open}",
                choices=choices,
                coerce=int,
                required=False,
                empty_value=None,
            )

    def choices(self) -> dict[int, int]:
        return {
            line.pk: self.cleaned_data[f"line_{line.pk}"]
            for line in self.lines
            if self.cleaned_data.get(f"line_{line.pk}") is not None
        }


def allocation_override_view(model_admin, request, object_id: str):
    order = model_admin.get_queryset(request).filter(pk=object_id).select_related("seller").first()
    if order is None:
        raise Http404
    if not model_admin.role_allows(request, model_admin.operator_roles, order):
        raise PermissionDenied
    lines = [line for line in OrderLine.objects.filter(order=order).order_by("position") if line.quantity_open]
    warehouses = list(Warehouse.objects.filter(seller_id=order.seller_id, is_active=True).order_by("priority", "code"))
    available = {
        (s["product_id"], s["warehouse_id"]): s["free"]
        for s in Stock.objects.filter(warehouse__in=warehouses, product_id__in=[line.product_id for line in lines])
        .annotate(free=F("on_hand") - F("allocated"))
        .values("product_id", "warehouse_id", "free")
    }
    form = AllocationOverrideForm(request.POST or None, lines=lines, warehouses=warehouses, available=available)
    if request.method == "POST" and form.is_valid():
        if not form.choices():
            form.add_error(None, "Choose a warehouse for at least one line.")
        else:
            try:
                order_allocation_override(
                    seller_id=order.seller_id,
                    order_id=order.pk,
                    choices=form.choices(),
                    actor=Actor.staff(request.user),
                    reason=form.cleaned_data["reason"],
                )
            except ApplicationError as exc:
                details = "; ".join(
                    str(v)
                    for value in (exc.details or {}).values()
                    for v in (value if isinstance(value, list) else [value])
                )
                form.add_error(None, f"{exc.message} {details}".strip())
            else:
                model_admin.message_user(request, f"Order #{order.number}: allocation changed.")
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Change the allocation of order #{order.number}",
        "opts": model_admin.opts,
        "order": order,
        "form": form,
        "movable": order.lifecycle in MOVABLE_LIFECYCLES,
    }
    return TemplateResponse(request, "admin/orders/order/allocation_override.html", context)
