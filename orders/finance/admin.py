"""Tax and currencies in the admin: a seller's tax rates (managers edit them), the
exchange rates every seller shares (superusers edit them, through the service that
keeps django-money's tables in step), and the sales report."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from djmoney.contrib.exchange.models import Rate

from core.exceptions import ApplicationError
from orders.finance.models import ExchangeRate, SalesReport, TaxRate
from orders.finance.reports import report_period_check, sales_report
from orders.finance.services.exchange import exchange_rate_delete, exchange_rate_save
from sellers.admin_scoping import (
    ALL_ROLES,
    MANAGER_ROLES,
    SUPERUSERS_ONLY,
    SellerScopedAdminMixin,
    SellerScopedPermissionsMixin,
)
from sellers.models import Seller

# django-money's own rate admin would let rates be edited behind ours: its tables are
# a mirror of ExchangeRate, written only by our services.
if admin.site.is_registered(Rate):
    admin.site.unregister(Rate)


@admin.register(TaxRate)
class TaxRateAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "seller", "country", "region", "tax_class", "percent", "valid_from", "valid_until")
    list_filter = ("seller", "country", "tax_class")
    search_fields = ("name", "country", "region", "tax_class")
    ordering = ("seller", "country", "region", "tax_class", "valid_from")
    fields = ("seller", "country", "region", "tax_class", "rate", "name", "valid_from", "valid_until")
    view_roles = ALL_ROLES
    change_roles = MANAGER_ROLES
    add_roles = MANAGER_ROLES
    delete_roles = MANAGER_ROLES

    @admin.display(description="rate", ordering="rate")
    def percent(self, rate: TaxRate) -> str:
        return f"{(rate.rate * 100).normalize():f} %"


class ExchangeRateForm(forms.ModelForm):
    class Meta:
        model = ExchangeRate
        fields = ("date", "base_currency", "quote_currency", "rate", "source")

    def clean(self):
        cleaned = super().clean()
        for name in ("base_currency", "quote_currency"):
            if cleaned.get(name):
                cleaned[name] = cleaned[name].upper()
        return cleaned


@admin.register(ExchangeRate)
class ExchangeRateAdmin(SellerScopedPermissionsMixin, admin.ModelAdmin):
    """Rates are facts every seller shares: all staff read them, superusers change them."""

    form = ExchangeRateForm
    list_display = ("date", "base_currency", "quote_currency", "rate", "source", "updated_at")
    list_filter = ("base_currency", "quote_currency", "source")
    date_hierarchy = "date"
    ordering = ("-date", "base_currency", "quote_currency")
    view_roles = ALL_ROLES
    change_roles = SUPERUSERS_ONLY
    add_roles = SUPERUSERS_ONLY
    delete_roles = SUPERUSERS_ONLY

    def save_model(self, request, obj, form, change):
        previous = None
        if change and {"date", "base_currency"} & set(form.changed_data):
            previous = (form.initial["date"], form.initial["base_currency"])
        exchange_rate_save(rate=obj, previous=previous)

    def delete_model(self, request, obj):
        exchange_rate_delete(rate=obj)

    def delete_queryset(self, request, queryset):
        for rate in queryset.order_by("pk"):
            exchange_rate_delete(rate=rate)


class SalesReportForm(forms.Form):
    seller = forms.ModelChoiceField(queryset=Seller.objects.none())
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    rate_date = forms.DateField(
        label="Rates of", required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text="Default: To."
    )

    def __init__(self, *args, sellers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seller"].queryset = sellers

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to"):
            try:
                report_period_check(date_from=cleaned["date_from"], date_to=cleaned["date_to"])
            except ApplicationError as exc:
                raise forms.ValidationError(" ".join(m for messages_ in exc.details.values() for m in messages_))
        return cleaned


@admin.register(SalesReport)
class SalesReportAdmin(SellerScopedAdminMixin, admin.ModelAdmin):
    """Not a list of rows: the index entry opens the report for one of the user's sellers."""

    view_roles = ALL_ROLES

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        sellers = Seller.objects.order_by("name")
        if not request.user.is_superuser:
            sellers = sellers.filter(pk__in=self.viewable_seller_ids(request))
        today = timezone.localdate()
        initial = {"seller": sellers.first(), "date_from": today.replace(day=1), "date_to": today}
        form = SalesReportForm(request.GET or None, initial=initial, sellers=sellers)
        report = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            report = sales_report(
                seller=data["seller"],
                date_from=data["date_from"],
                date_to=data["date_to"],
                rate_date=data["rate_date"],
            )
        elif form.is_bound:
            messages.error(request, "Please correct the errors below.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Sales report",
            "form": form,
            "report": report,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/finance/salesreport/report.html", context)
