"""Carrier accounts a seller ships with, and the tables of the built-in table-rate carrier."""

from django.db import models
from djmoney.models.fields import MoneyField

from core.models import TimeStampedModel
from sellers.models import Seller


class CarrierKind(models.TextChoices):
    """One backend module per kind in ``shipping.carriers``."""

    TABLE_RATE = "table_rate", "Table rates (built in, prints its own labels)"
    MANUAL = "manual", "Manual (staff type the tracking number)"
    EASYPOST = "easypost", "EasyPost"


class CarrierAccount(TimeStampedModel):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="carrier_accounts")
    code = models.SlugField(max_length=32, help_text="Short name, unique per seller, e.g. ground or easypost.")
    name = models.CharField(max_length=100, help_text="As the customer sees it, e.g. Waybill Post.")
    kind = models.CharField(max_length=16, choices=CarrierKind.choices)
    tracking_url_template = models.CharField(
        max_length=300,
        blank=True,
        help_text="Public tracking page, with {tracking_number} in it; the carrier's own URL wins when it has one.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["seller", "code"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "code"], name="carrier_account_seller_code_unique"),
            models.CheckConstraint(condition=models.Q(kind__in=CarrierKind.values), name="carrier_account_kind_valid"),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def tracking_url_for(self, tracking_number: str) -> str:
        if not (self.tracking_url_template and tracking_number):
            return ""
        return self.tracking_url_template.replace("{tracking_number}", tracking_number)


class ShippingZone(models.Model):
    """Where a table-rate carrier delivers: countries, optionally narrowed to postal
    code prefixes. The most specific zone that matches an address wins."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    carrier = models.ForeignKey(CarrierAccount, on_delete=models.CASCADE, related_name="zones")
    name = models.CharField(max_length=100)
    countries = models.JSONField(default=list, help_text='Country codes, e.g. ["US"].')
    postal_prefixes = models.JSONField(
        default=list, blank=True, help_text='Postal code prefixes, e.g. ["02", "100"]; empty: the whole countries.'
    )

    class Meta:
        ordering = ["carrier", "name"]

    def __str__(self):
        return self.name


class TableRate(models.Model):
    """One price: a service in a zone up to a parcel weight (the weight band is from
    the next lower band's limit to this one's)."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey(ShippingZone, on_delete=models.CASCADE, related_name="rates")
    service_code = models.SlugField(max_length=32)
    service_name = models.CharField(max_length=100)
    transit_days = models.PositiveSmallIntegerField(help_text="Business days door to door.")
    max_weight_grams = models.PositiveIntegerField()
    price = MoneyField(max_digits=19, decimal_places=4, default_currency="USD")

    class Meta:
        ordering = ["zone", "service_code", "max_weight_grams"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "service_code", "max_weight_grams"], name="table_rate_zone_service_band_unique"
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="table_rate_price_not_negative"),
            models.CheckConstraint(condition=models.Q(max_weight_grams__gt=0), name="table_rate_band_positive"),
        ]

    def __str__(self):
        return f"{self.service_name} ≤ {self.max_weight_grams} g: {self.price}"
