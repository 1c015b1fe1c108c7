from rest_framework import serializers

from core.serializers import MoneyField


class SalesReportQuerySerializer(serializers.Serializer):
    # "from" is a Python keyword, so it is declared through the class namespace.
    vars()["from"] = serializers.DateField(help_text="First day, YYYY-MM-DD, in the seller's time zone.")
    to = serializers.DateField(help_text="Last day, YYYY-MM-DD, included.")
    rate_date = serializers.DateField(
        required=False, default=None, help_text="Convert with the rates valid on this day. Default: `to`."
    )

    def validate(self, attrs):
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": ["Must not be before from."]})
        return attrs


class StatedRateSerializer(serializers.Serializer):
    rate = serializers.DecimalField(
        max_digits=40, decimal_places=12, coerce_to_string=True, help_text="1 unit of the currency in base units."
    )
    date = serializers.DateField(allow_null=True, help_text="The day of the stored rate; null for the same currency.")
    source = serializers.CharField(source="origin", help_text="Where the stored rate came from, e.g. ECB.")
    via = serializers.ChoiceField(
        choices=["same", "direct", "inverse", "cross"],
        help_text="direct: stored as currency→base; inverse: base→currency; cross: both quoted against one base.",
    )
    quoted_against = serializers.CharField(source="base", help_text="The base currency the stored rates quote.")
    stored = serializers.CharField(help_text='The stored rate(s) it derives from, e.g. "1 EUR = 11.17 SEK".')


class ConvertedSerializer(serializers.Serializer):
    gross = MoneyField()
    tax = MoneyField()
    net = MoneyField()


class CurrencyRowSerializer(serializers.Serializer):
    currency = serializers.CharField()
    orders = serializers.IntegerField()
    goods = MoneyField()
    shipping = MoneyField()
    discount = MoneyField()
    tax = MoneyField()
    gross = MoneyField(help_text="What the customers pay: Σ order totals.")
    net = MoneyField(help_text="gross − tax.")
    convertible = serializers.BooleanField()
    rate = StatedRateSerializer(allow_null=True, help_text="The rate used; null when none is stored.")
    converted = ConvertedSerializer(allow_null=True, help_text="In the base currency; null when not convertible.")


class SalesReportSerializer(serializers.Serializer):
    base_currency = serializers.CharField()
    vars()["from"] = serializers.DateField(source="date_from")
    to = serializers.DateField(source="date_to")
    rate_date = serializers.DateField(help_text="The rates valid on this day were used.")
    orders = serializers.IntegerField()
    rows = CurrencyRowSerializer(many=True)
    gross = MoneyField(help_text="Converted gross of the convertible currencies.")
    tax = MoneyField()
    net = MoneyField()
    complete = serializers.BooleanField(help_text="False when some currency could not be converted.")
    not_convertible = serializers.ListField(child=serializers.CharField())
