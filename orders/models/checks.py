"""Per-seller rules for orders: limits checked before entry (an order that breaks one
is refused), and risk rules run after entry (an order that trips one is held)."""

from django.conf import settings
from django.db import models

from core.models import TimeStampedModel
from orders.models.order import Order
from sellers.models import Seller


class OrderPolicy(TimeStampedModel):
    """Limits an order must meet to be accepted. Empty means no limit."""

    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="order_policy")
    max_order_values = models.JSONField(
        default=dict, blank=True, help_text='Largest accepted total per currency, e.g. {"USD": "5000.00"}.'
    )
    max_line_quantity = models.PositiveIntegerField(null=True, blank=True)
    max_lines = models.PositiveIntegerField(null=True, blank=True)
    allowed_countries = models.JSONField(
        default=list, blank=True, help_text="Countries the seller ships to; empty means every country."
    )
    blocked_countries = models.JSONField(default=list, blank=True, help_text="Countries never shipped to.")

    class Meta:
        verbose_name_plural = "order policies"

    def __str__(self):
        return f"Order policy of {self.seller}"


class RiskRuleKind(models.TextChoices):
    VELOCITY_EMAIL = "velocity_email", "Many orders from one email"
    VELOCITY_ADDRESS = "velocity_address", "Many orders to one address"
    COUNTRY_MISMATCH = "country_mismatch", "Billing and shipping countries differ"
    FIRST_ORDER_VALUE = "first_order_value", "High value first order"
    DUPLICATE_ORDER = "duplicate_order", "Looks like a duplicate"
    PAYMENT_RISK = "payment_risk", "Payment processor flags risk"


class HoldKind(models.TextChoices):
    """Why an order is held: a risk rule fired, or something happened to its payment."""

    VELOCITY_EMAIL = RiskRuleKind.VELOCITY_EMAIL.value, RiskRuleKind.VELOCITY_EMAIL.label
    VELOCITY_ADDRESS = RiskRuleKind.VELOCITY_ADDRESS.value, RiskRuleKind.VELOCITY_ADDRESS.label
    COUNTRY_MISMATCH = RiskRuleKind.COUNTRY_MISMATCH.value, RiskRuleKind.COUNTRY_MISMATCH.label
    FIRST_ORDER_VALUE = RiskRuleKind.FIRST_ORDER_VALUE.value, RiskRuleKind.FIRST_ORDER_VALUE.label
    DUPLICATE_ORDER = RiskRuleKind.DUPLICATE_ORDER.value, RiskRuleKind.DUPLICATE_ORDER.label
    PAYMENT_RISK = RiskRuleKind.PAYMENT_RISK.value, RiskRuleKind.PAYMENT_RISK.label
    DISPUTE = "dispute", "Payment disputed"
    PAYMENT_FAILED = "payment_failed", "Payment failed"


class RiskRule(TimeStampedModel):
    """One risk check a seller runs on new orders, with its parameters."""

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="risk_rules")
    kind = models.CharField(max_length=32, choices=RiskRuleKind.choices)
    is_enabled = models.BooleanField(default=True)
    params = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "kind"], name="risk_rule_seller_kind_unique"),
            models.CheckConstraint(condition=models.Q(kind__in=RiskRuleKind.values), name="risk_rule_kind_valid"),
        ]

    def __str__(self):
        return self.get_kind_display()


class HoldResolution(models.TextChoices):
    RELEASED = "released", "Released"
    CANCELLED = "cancelled", "Cancelled"


class OrderHold(models.Model):
    """Why an order waits for a person; resolved by releasing or cancelling it."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    kind = models.CharField(max_length=32, choices=HoldKind.choices)
    reason = models.CharField(max_length=255)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=16, choices=HoldResolution.choices, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["seller", "created_at"], name="hold_open_idx", condition=models.Q(resolved_at__isnull=True)
            ),
        ]

    def __str__(self):
        return self.reason


class HeldOrder(Order):
    """An order seen as an entry of the admin's "holds to review" queue; same table."""

    class Meta:
        proxy = True
        verbose_name = "hold to review"
        verbose_name_plural = "holds to review"
