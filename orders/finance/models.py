"""Tax rates per seller and destination, and dated exchange rates.

A ``TaxRate`` is read when an order is placed; the rate and amount it gives are copied
onto the order's lines, so changing or deleting a rate later never alters a placed order.
An ``ExchangeRate`` is a fact about a day (1 base = rate quote), shared by every seller;
reports pick the one valid on their date and say which they used.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.countries import is_country_code
from core.models import TimeStampedModel
from orders.models import Order
from sellers.models import Seller, currency_code_validator

STANDARD_TAX_CLASS = "standard"


def _validate_country(value: str) -> None:
    if not is_country_code(value):
        raise ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")


class TaxRate(TimeStampedModel):
    """What a seller charges on one tax class shipped to one country (or one region of
    it). The rate is a fraction: 0.19 is 19 %."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="tax_rates")
    country = models.CharField(max_length=2, validators=[_validate_country], help_text="ISO 3166-1 alpha-2, e.g. DE.")
    region = models.CharField(
        max_length=100,
        blank=True,
        help_text="As sent in addresses, e.g. NY or ON (compared ignoring case). Empty: the whole country.",
    )
    tax_class = models.CharField(
        max_length=32, default=STANDARD_TAX_CLASS, help_text="Matches Product.tax_class; shipping uses standard."
    )
    rate = models.DecimalField(
        max_digits=8, decimal_places=5, validators=[MinValueValidator(0)], help_text="A fraction: 0.19 is 19 %."
    )
    name = models.CharField(max_length=64, help_text="As printed on invoices, e.g. MwSt 19 % or NY sales tax.")
    valid_from = models.DateField(null=True, blank=True, help_text="Empty: since always.")
    valid_until = models.DateField(null=True, blank=True, help_text="Last day it applies. Empty: until further notice.")

    class Meta:
        ordering = ["country", "region", "tax_class", "valid_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lt=1), name="tax_rate_fraction"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="tax_rate_period_ordered",
            ),
        ]
        indexes = [models.Index(fields=["seller", "country"], name="tax_rate_lookup_idx")]

    def __str__(self):
        where = f"{self.country}-{self.region}" if self.region else self.country
        return f"{self.name} ({where}, {self.tax_class}: {self.rate})"

    def clean(self):
        self.country = (self.country or "").upper()
        self.region = (self.region or "").strip()
        self.tax_class = (self.tax_class or "").strip()
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValidationError({"valid_until": "Must not be before valid from."})
        if self.seller_id and self._overlapping().exists():
            raise ValidationError(
                "Another rate for this seller, destination and tax class applies in part of this period."
            )

    def _overlapping(self):
        """Rates for the same seller, destination and class whose periods meet this one's."""
        others = TaxRate.objects.filter(
            seller_id=self.seller_id,
            country=self.country,
            region__iexact=self.region,
            tax_class=self.tax_class,
        ).exclude(pk=self.pk)
        if self.valid_until:
            others = others.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=self.valid_until))
        if self.valid_from:
            others = others.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=self.valid_from))
        return others


class ExchangeRate(TimeStampedModel):
    """1 ``base_currency`` = ``rate`` ``quote_currency`` on ``date``, from ``source``."""

    date = models.DateField()
    base_currency = models.CharField(max_length=3, validators=[currency_code_validator])
    quote_currency = models.CharField(max_length=3, validators=[currency_code_validator])
    # Six decimals, as django-money's exchange ``Rate`` keeps them: conversions run
    # through it, so a stated rate is exactly the one used.
    rate = models.DecimalField(max_digits=20, decimal_places=6, help_text="Units of quote per one unit of base.")
    source = models.CharField(max_length=64, help_text="Where it came from, e.g. ECB or a file name.")

    class Meta:
        ordering = ["-date", "base_currency", "quote_currency"]
        constraints = [
            models.UniqueConstraint(fields=["date", "base_currency", "quote_currency"], name="exchange_rate_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
            models.CheckConstraint(
                condition=~Q(base_currency=models.F("quote_currency")), name="exchange_rate_two_currencies"
            ),
        ]
        indexes = [models.Index(fields=["quote_currency", "date"], name="exchange_rate_quote_idx")]

    def __str__(self):
        return f"1 {self.base_currency} = {self.rate} {self.quote_currency} on {self.date}"


def backend_name(day, base_currency: str) -> str:
    """The django-money exchange backend that holds one day's rates against one base."""
    return f"waybill:{day.isoformat()}:{base_currency}"


class SalesReport(Order):
    """The sales report as an entry of the admin index; the same table as orders."""

    class Meta:
        proxy = True
        verbose_name = "sales report"
        verbose_name_plural = "sales reports"
