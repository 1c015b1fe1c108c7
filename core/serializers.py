from djmoney.money import Money
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import round_amount


class MoneyOutputSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text="Decimal string, on the currency's minor-unit grid.")
    currency = serializers.CharField(help_text="ISO 4217 code.")


@extend_schema_field(MoneyOutputSerializer)
class MoneyField(serializers.Field):
    """Money out as ``{"amount": "12.30", "currency": "EUR"}``: a string amount, rounded
    to the currency's minor unit (JPY "1200", KWD "1.250")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Money):
        currency = str(value.currency)
        return {"amount": str(round_amount(value.amount, currency)), "currency": currency}
