"""Payments of orders through Stripe: one Payment per PaymentIntent, its refunds, and
the Stripe events already processed (by id, so a redelivery changes nothing)."""

from django.db import models
from djmoney.models.fields import MoneyField

from core.models import TimeStampedModel
from orders.models import Order
from sellers.models import Seller


def payment_money(**kwargs) -> MoneyField:
    """A payment's amounts share its one ``currency`` column (always pass them all)."""
    return MoneyField(max_digits=19, decimal_places=4, currency_field_name="currency", default_currency="USD", **kwargs)


class PaymentState(models.TextChoices):
    AUTHORIZED = "authorized", "Authorized"
    CAPTURED = "captured", "Captured"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"
    VOIDED = "voided", "Voided"
    FAILED = "failed", "Failed"


class Payment(TimeStampedModel):
    """A Stripe PaymentIntent with manual capture, authorized when the order was placed.

    ``capture_requested_at``/``void_requested_at`` mark work promised but not yet done
    at Stripe (it runs outside any transaction); a sweep finishes what a crash left."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    stripe_payment_intent_id = models.CharField("PaymentIntent", max_length=255, unique=True)
    stripe_charge_id = models.CharField("charge", max_length=255, blank=True)
    on_own_account = models.BooleanField(
        default=False, help_text="Made on the seller's own Stripe account (else the install's); it stays there."
    )
    status = models.CharField(max_length=24, choices=PaymentState.choices, default=PaymentState.AUTHORIZED)
    amount_authorized = payment_money()
    amount_captured = payment_money()
    amount_refunded = payment_money()
    captured_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    capture_requested_at = models.DateTimeField(null=True, blank=True)
    void_requested_at = models.DateTimeField(null=True, blank=True)
    stripe_synced_at = models.DateTimeField(help_text="When Stripe's state was last seen (API answer or event).")
    failure_message = models.CharField(max_length=255, blank=True)
    dispute_reason = models.CharField(max_length=64, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PaymentState.values), name="payment_status_valid"),
            models.CheckConstraint(
                condition=models.Q(amount_authorized__gte=0, amount_captured__gte=0, amount_refunded__gte=0),
                name="payment_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_captured__lte=models.F("amount_authorized")),
                name="payment_captured_within_authorized",
            ),
            models.CheckConstraint(
                condition=models.Q(amount_refunded__lte=models.F("amount_captured")),
                name="payment_refunded_within_captured",
            ),
        ]
        indexes = [
            models.Index(
                fields=["capture_requested_at"],
                name="payment_capture_pending_idx",
                condition=models.Q(capture_requested_at__isnull=False, status="authorized"),
            ),
            models.Index(
                fields=["void_requested_at"],
                name="payment_void_pending_idx",
                condition=models.Q(void_requested_at__isnull=False, status="authorized"),
            ),
        ]

    def __str__(self):
        return self.stripe_payment_intent_id


class RefundState(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class RefundOrigin(models.TextChoices):
    WAYBILL = "waybill", "Waybill"
    STRIPE = "stripe", "Stripe (made outside Waybill)"


class Refund(TimeStampedModel):
    """Money given back on a captured payment. Written as pending before Stripe is
    asked (with the refund's own idempotency key), so a retry never refunds twice."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    amount = MoneyField(max_digits=19, decimal_places=4, default_currency="USD")
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=RefundState.choices, default=RefundState.PENDING)
    origin = models.CharField(max_length=16, choices=RefundOrigin.choices, default=RefundOrigin.WAYBILL)
    stripe_refund_id = models.CharField("Stripe refund", max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=255, help_text="The client's key, or one Waybill made up.")
    fingerprint = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    failure_message = models.CharField(max_length=255, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["seller", "idempotency_key"], name="refund_seller_key_unique"),
            models.UniqueConstraint(
                fields=["stripe_refund_id"], condition=~models.Q(stripe_refund_id=""), name="refund_stripe_id_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=models.Q(status__in=RefundState.values), name="refund_status_valid"),
        ]
        indexes = [
            models.Index(fields=["payment", "id"], name="refund_payment_idx"),
            models.Index(fields=["created_at"], name="refund_pending_idx", condition=models.Q(status="pending")),
        ]

    def __str__(self):
        return f"{self.amount} on {self.payment}"


class StripeEvent(models.Model):
    """A Stripe event received by the webhook: kept by id, so each is applied once
    (``processed_at``) however often Stripe delivers it."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    stripe_created = models.DateTimeField()
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    seller = models.ForeignKey(Seller, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="events")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["received_at"], name="stripe_event_pending_idx", condition=models.Q(processed_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class StripeAccount(TimeStampedModel):
    """A seller's own Stripe account. Its secret key and webhook signing secret are
    stored encrypted (core/crypto.py) and never shown again; a seller without one uses
    the install's account from the environment (STRIPE_API_KEY, STRIPE_WEBHOOK_SECRET)."""

    seller = models.OneToOneField(Seller, on_delete=models.CASCADE, related_name="stripe_account")
    secret_key_encrypted = models.TextField(editable=False)
    webhook_secret_encrypted = models.TextField(editable=False)
    key_hint = models.CharField(
        max_length=16, editable=False, help_text="The key's last characters, to tell keys apart."
    )

    def __str__(self):
        return f"Stripe account of {self.seller} (…{self.key_hint})"
