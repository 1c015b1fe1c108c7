import threading

from django.utils.functional import cached_property
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


class ReusedFieldsMixin:
    """A serializer whose bound fields are built once per class and thread, and lent to
    each new instance, instead of deep-copied from the declared fields every time.

    Why by hand: DRF deep-copies every declared field (and, through nested serializers,
    theirs) for each serializer instance, so the instance may change its fields. For the
    order input, about 60 fields, that copy was ~8 % of an order's CPU in the capture
    path. Validation keeps no state on fields (each value goes in and comes out of
    ``run_validation``), so an instance that does not alter its fields can take the
    fields a previous one built; only the top-level fields' ``parent`` changes, so that
    ``root`` and ``context`` resolve to the new instance. Per thread, as two threads
    validating at once would otherwise share parents. A subclass must not add or alter
    fields per instance (a ``get_fields`` override or ``self.fields[...] = ...``)."""

    _reused = threading.local()

    @cached_property
    def fields(self):
        built = getattr(self._reused, "fields", None)
        if built is None:
            built = self._reused.fields = {}
        fields = built.get(type(self))
        if fields is None:
            fields = built[type(self)] = super().fields
        else:
            fields.serializer = self  # BindingDict: binds fields set on it later to us
            for field in fields.values():
                field.parent = self
        return fields
