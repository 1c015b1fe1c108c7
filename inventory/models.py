from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from core.models import TimeStampedModel
from sellers.models import Seller, country_code_validator


class ProductKind(models.TextChoices):
    SIMPLE = "simple", "Simple product"
    KIT = "kit", "Kit or bundle (sold from its components' stock)"


class BackorderPolicy(models.TextChoices):
    DENY = "deny", "Refuse what is not in stock"
    ALLOW = "allow", "Accept and backorder what is not in stock"
    PREORDER = "preorder", "Take preorders until the release date"


class Weekday(models.IntegerChoices):
    """ISO weekday numbers, as ``date.isoweekday()`` gives them."""

    MONDAY = 1
    TUESDAY = 2
    WEDNESDAY = 3
    THURSDAY = 4
    FRIDAY = 5
    SATURDAY = 6
    SUNDAY = 7


def every_weekday() -> list[int]:
    return list(Weekday.values)


def shipping_days_validator(value) -> None:
    if (
        not isinstance(value, list)
        or not value
        or len(set(value)) != len(value)
        or not all(type(day) is int and day in Weekday.values for day in value)
    ):
        raise ValidationError("Choose at least one day, each an ISO weekday from 1 (Monday) to 7 (Sunday), once.")


class Product(TimeStampedModel):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="products")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=255)
    barcode = models.CharField(max_length=64, blank=True, help_text="GTIN/EAN/UPC, scanned when packing.")
    description = models.TextField(blank=True)
    price = MoneyField(max_digits=19, decimal_places=4, default_currency="USD", validators=[MinMoneyValidator(0)])
    weight_grams = models.PositiveIntegerField(default=0)
    length_mm = models.PositiveIntegerField(default=0)
    width_mm = models.PositiveIntegerField(default=0)
    height_mm = models.PositiveIntegerField(default=0)
    restricted_countries = models.JSONField(
        default=list, blank=True, help_text="Countries this product may not be shipped to."
    )
    tax_class = models.CharField(
        max_length=32, default="standard", help_text="Matched against tax rates, e.g. standard, reduced, zero."
    )
    kind = models.CharField(max_length=8, choices=ProductKind.choices, default=ProductKind.SIMPLE)
    backorder_policy = models.CharField(max_length=8, choices=BackorderPolicy.choices, default=BackorderPolicy.DENY)
    preorder_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most units taken on preorder; empty means no cap."
    )
    release_date = models.DateField(null=True, blank=True, help_text="Preorders are taken until this date.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "sku"], name="product_seller_sku_unique"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(condition=models.Q(kind__in=ProductKind.values), name="product_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(backorder_policy__in=BackorderPolicy.values), name="product_backorder_policy_valid"
            ),
        ]
        indexes = [models.Index(fields=["seller", "barcode"], name="product_seller_barcode_idx")]

    def __str__(self):
        return f"{self.sku} — {self.name}"


class KitComponent(models.Model):
    """One component of a kit: selling one kit takes ``quantity`` of the component."""

    kit = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="kit_memberships")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["kit", "component"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "component"], name="kit_component_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="kit_component_quantity_positive"),
            models.CheckConstraint(condition=~models.Q(kit=models.F("component")), name="kit_not_own_component"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.component_id} in {self.kit_id}"


class Warehouse(TimeStampedModel):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="warehouses")
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, validators=[country_code_validator])
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-90)], null=True, blank=True
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-180)], null=True, blank=True
    )
    ships_to = models.JSONField(
        default=list, blank=True, help_text="Country codes this warehouse ships to; empty means every country."
    )
    priority = models.PositiveSmallIntegerField(default=100, help_text="Lower ships first when choosing by priority.")
    handling_cost = MoneyField(
        max_digits=19, decimal_places=4, default=0, default_currency="USD", validators=[MinMoneyValidator(0)]
    )
    cutoff_time = models.TimeField(
        null=True, blank=True, help_text="Orders after this local time ship on the next shipping day."
    )
    shipping_days = models.JSONField(
        default=every_weekday,
        validators=[shipping_days_validator],
        help_text="The weekdays parcels leave this warehouse (1 = Monday … 7 = Sunday); ship-by dates fall on them.",
    )
    is_pickup_location = models.BooleanField(default=False, help_text="Customers may collect orders here.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["priority", "code"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "code"], name="warehouse_seller_code_unique"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="warehouse_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="warehouse_longitude_range",
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.name}"

    def ships_to_country(self, country: str) -> bool:
        return not self.ships_to or country in self.ships_to


class Stock(models.Model):
    """Units of one product in one warehouse. ``on_hand`` changes only through the
    ledger; ``allocated`` is what open orders have reserved. The database refuses a row
    that would oversell (allocated > on_hand) or go negative."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="stocks")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="stocks")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    bin_location = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "stock"
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_product_warehouse_unique"),
            models.CheckConstraint(condition=models.Q(allocated__gte=0), name="stock_allocated_not_negative"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=models.F("allocated")), name="stock_allocated_within_on_hand"
            ),
        ]
        indexes = [models.Index(fields=["warehouse", "product"], name="stock_warehouse_product_idx")]

    def __str__(self):
        return f"{self.product_id}@{self.warehouse_id}: {self.on_hand} on hand, {self.allocated} allocated"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class LedgerKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    SHIPMENT = "shipment", "Shipment"
    ADJUSTMENT = "adjustment", "Adjustment"
    RETURN_RESTOCK = "return_restock", "Return restock"
    COUNT = "count", "Stock count"


class StockLedgerEntry(models.Model):
    """One change to a stock row's ``on_hand``, never updated or deleted (a PostgreSQL
    trigger refuses both). The sum of a row's entries is its ``on_hand``."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=16, choices=LedgerKind.choices)
    quantity = models.IntegerField(help_text="Change to on hand: positive in, negative out.")
    balance_after = models.IntegerField()
    reason = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="What caused it, e.g. order:1042.")
    actor_kind = models.CharField(max_length=16)
    actor_label = models.CharField(max_length=150)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "stock ledger entries"
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=LedgerKind.values), name="ledger_kind_valid"),
            models.CheckConstraint(condition=~models.Q(quantity=0), name="ledger_quantity_not_zero"),
            models.CheckConstraint(condition=models.Q(balance_after__gte=0), name="ledger_balance_not_negative"),
        ]
        indexes = [
            models.Index(fields=["stock", "id"], name="ledger_stock_idx"),
            models.Index(fields=["seller", "created_at"], name="ledger_seller_created_idx"),
        ]

    def __str__(self):
        return f"{self.kind} {self.quantity:+d} → {self.balance_after}"
