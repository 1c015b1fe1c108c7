from rest_framework import serializers

from core.serializers import MoneyField
from orders.payments.models import Payment, Refund


class RefundOutputSerializer(serializers.ModelSerializer):
    amount = MoneyField()
    stripe_refund_id = serializers.CharField(help_text="Stripe's id (re_…); empty while pending.")

    class Meta:
        model = Refund
        fields = (
            "id",
            "payment_id",
            "order_id",
            "amount",
            "reason",
            "status",
            "origin",
            "stripe_refund_id",
            "failure_message",
            "created_at",
            "succeeded_at",
        )


class PaymentOutputSerializer(serializers.ModelSerializer):
    provider = serializers.SerializerMethodField()
    payment_intent = serializers.CharField(source="stripe_payment_intent_id")
    charge = serializers.CharField(source="stripe_charge_id")
    amount_authorized = MoneyField()
    amount_captured = MoneyField()
    amount_refunded = MoneyField()
    refunds = RefundOutputSerializer(many=True)

    class Meta:
        model = Payment
        fields = (
            "id",
            "order_id",
            "provider",
            "payment_intent",
            "charge",
            "status",
            "amount_authorized",
            "amount_captured",
            "amount_refunded",
            "captured_at",
            "voided_at",
            "dispute_reason",
            "disputed_at",
            "failure_message",
            "created_at",
            "refunds",
        )

    def get_provider(self, payment) -> str:
        return "stripe"


class RefundCreateInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=19,
        decimal_places=4,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        coerce_to_string=True,
        help_text="In the payment's currency, on its minor-unit grid. Omitted: everything left to refund.",
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StripeWebhookAckSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    outcome = serializers.ChoiceField(
        choices=["processed", "duplicate", "ignored", "stale", "unknown_payment", "failed"],
        help_text="failed: kept and applied later; every outcome is acknowledged.",
    )
