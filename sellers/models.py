import zoneinfo

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from core.models import TimeStampedModel

country_code_validator = RegexValidator(r"^[A-Z]{2}$", "Use an ISO 3166-1 alpha-2 country code, e.g. US.")
currency_code_validator = RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 currency code, e.g. USD.")

TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class RoutingStrategyChoice(models.TextChoices):
    """Names of the strategies in ``inventory.routing.STRATEGIES`` (a test keeps them equal)."""

    OPTIMAL = "optimal", "Fewest shipments, then lowest cost"
    NEAREST = "nearest", "Nearest warehouse"
    PRIORITY = "priority", "Warehouse priority"


class InvoiceTrigger(models.TextChoices):
    SHIPPED = "shipped", "When the order ships"
    PAID = "paid", "When the payment is captured"
    MANUAL = "manual", "Only when staff issue it"


class Seller(TimeStampedModel):
    """A tenant. Every row that belongs to a seller carries a ``seller`` foreign key."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    base_currency = models.CharField(max_length=3, default="USD", validators=[currency_code_validator])
    country = models.CharField(max_length=2, validators=[country_code_validator])
    timezone = models.CharField(max_length=64, default="UTC", choices=TIMEZONE_CHOICES)
    support_email = models.EmailField(blank=True, help_text="Sender and reply-to of customer emails.")
    notify_customers = models.BooleanField(
        default=True, help_text="Email customers of storefront and manual orders (marketplaces email their own)."
    )
    routing_strategy = models.CharField(
        max_length=16,
        choices=RoutingStrategyChoice.choices,
        default=RoutingStrategyChoice.OPTIMAL,
        help_text="How orders choose the warehouses they ship from.",
    )
    prices_include_tax = models.BooleanField(
        default=False, help_text="Prices (products and order lines) already include tax, as is usual in the EU."
    )
    invoice_trigger = models.CharField(
        max_length=16,
        choices=InvoiceTrigger.choices,
        default=InvoiceTrigger.SHIPPED,
        help_text="When invoices are issued.",
    )
    invoice_marketplace_orders = models.BooleanField(
        default=True, help_text="Also invoice orders paid on a marketplace."
    )
    legal_name = models.CharField(max_length=200, blank=True, help_text="As printed on invoices; empty: the name.")
    legal_address = models.TextField(blank=True, help_text="The seller's address as printed on invoices.")
    tax_id = models.CharField(max_length=64, blank=True, help_text="VAT or sales-tax registration number.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class StaffRole(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    STAFF = "staff", "Staff"
    VIEWER = "viewer", "Viewer (read only)"


class StaffMembership(TimeStampedModel):
    """A staff user's access to one seller. The admin shows a user only the data of
    sellers they are a member of; the role decides whether they may change it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=StaffRole.choices, default=StaffRole.STAFF)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "seller"], name="membership_user_seller_unique"),
            models.CheckConstraint(condition=models.Q(role__in=StaffRole.values), name="membership_role_valid"),
        ]

    def __str__(self):
        return f"{self.user} @ {self.seller} ({self.role})"


class ApiScope(models.TextChoices):
    PRODUCTS_READ = "products:read", "Read products and availability"
    ORDERS_READ = "orders:read", "Read orders"
    ORDERS_WRITE = "orders:write", "Place and change orders"
    FULFILLMENT_WRITE = "fulfillment:write", "Pick, pack, label and ship shipments (warehouse apps, 3PLs)"


# What a key gets when no scopes are named: a storefront's. Working shipments (and so
# marking them shipped or collected, which captures payment) is granted only by name.
STOREFRONT_SCOPES = (ApiScope.PRODUCTS_READ, ApiScope.ORDERS_READ, ApiScope.ORDERS_WRITE)


class ApiKey(TimeStampedModel):
    """A storefront's credential. The secret is shown once; only its SHA-256 digest is
    stored (a 256-bit random secret needs no slow hash: there is nothing to brute-force)."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Shown in lists to tell keys apart.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        indexes = [models.Index(fields=["seller", "created_at"], name="apikey_seller_created_idx")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class SellerSequence(models.Model):
    """Gap-free per-seller counters (order numbers, invoices, credit notes). The next
    value is taken inside the writer's transaction, so a rollback returns the number."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="sequences")
    name = models.CharField(max_length=32)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "name"], name="sequence_seller_name_unique")]

    def __str__(self):
        return f"{self.seller_id}:{self.name}={self.last_value}"
