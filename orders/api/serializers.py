from datetime import datetime
from decimal import Decimal, getcontext
from enum import Enum
from functools import cache

from django.conf import settings
from django.utils import timezone
from djmoney.money import Money
from rest_framework import serializers
from rest_framework.fields import ISO_8601
from rest_framework.settings import api_settings

from core.money import round_amount
from core.serializers import MoneyField, ReusedFieldsMixin
from orders.models import API_CHANNELS, DeliveryMethod, Order, OrderEvent, OrderLine
from orders.services import AddressInput, LineInput, OrderInput
from orders.services.inputs import PaymentRiskInput

AMOUNT = {"max_digits": 19, "decimal_places": 4, "min_value": 0, "coerce_to_string": True}


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    company = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.CharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2, e.g. DE.")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class ShippingAddressSerializer(AddressSerializer):
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True, default=None)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, required=False, allow_null=True, default=None)


class CustomerSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


class LineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_price = serializers.DecimalField(
        **AMOUNT,
        required=False,
        allow_null=True,
        default=None,
        help_text="Per unit, in the order currency. Omitted: the product's price.",
    )


class PaymentRiskSerializer(serializers.Serializer):
    level = serializers.CharField(
        max_length=16, help_text="The processor's risk level, e.g. Stripe's normal, elevated or highest."
    )
    score = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True, default=None)


def address_input(fields: dict) -> AddressInput:
    return AddressInput(**{**fields, "country": fields["country"].upper()})


class OrderCreateInputSerializer(ReusedFieldsMixin, serializers.Serializer):
    channel = serializers.ChoiceField(choices=[(c.value, c.label) for c in API_CHANNELS], default="storefront")
    external_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text="Your id for the order; unique per channel, a second order with it is refused.",
    )
    currency = serializers.CharField(min_length=3, max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    customer = CustomerSerializer(required=False)
    shipping_address = ShippingAddressSerializer()
    billing_address = AddressSerializer(required=False, allow_null=True, default=None)
    lines = LineInputSerializer(many=True, allow_empty=False)
    shipping_total = serializers.DecimalField(**AMOUNT, required=False, default=Decimal(0))
    tax_total = serializers.DecimalField(
        **AMOUNT,
        required=False,
        allow_null=True,
        default=None,
        help_text="When the seller has tax rates Waybill computes the tax per line; a tax_total sent then must "
        "equal it (else a 400 on tax_total). Without rates, the figure sent is kept. Omitted: not stated.",
    )
    discount_total = serializers.DecimalField(**AMOUNT, required=False, default=Decimal(0))
    paid_externally = serializers.BooleanField(
        required=False, default=False, help_text="Paid outside Waybill, e.g. at a point-of-sale till."
    )
    customer_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    metadata = serializers.DictField(required=False, default=dict)
    delivery_method = serializers.ChoiceField(
        choices=DeliveryMethod.choices,
        default=DeliveryMethod.SHIP,
        help_text="pickup: click and collect at pickup_location, which then is the only warehouse it routes to.",
    )
    pickup_location = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=32, help_text="A pickup location's warehouse code."
    )
    payment_intent = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=255,
        help_text="The Stripe PaymentIntent (manual capture) the customer confirmed; verified before acceptance.",
    )
    payment_risk = PaymentRiskSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="The payment processor's risk verdict, when it gave one; a seller's risk rules may hold the order.",
    )

    def to_order_input(self) -> OrderInput:
        data = self.validated_data
        customer = data.get("customer") or {}
        billing = data.get("billing_address")
        return OrderInput(
            channel=data["channel"],
            external_id=data["external_id"],
            currency=data["currency"].upper(),
            customer_email=customer.get("email", ""),
            customer_name=customer.get("name", ""),
            customer_phone=customer.get("phone", ""),
            shipping_address=AddressInput(
                **{**data["shipping_address"], "country": data["shipping_address"]["country"].upper()}
            ),
            billing_address=AddressInput(**{**billing, "country": billing["country"].upper()}) if billing else None,
            lines=[LineInput(**line) for line in data["lines"]],
            shipping_total=data["shipping_total"],
            tax_total=data["tax_total"],
            discount_total=data["discount_total"],
            paid_externally=data["paid_externally"],
            customer_note=data["customer_note"],
            metadata=data["metadata"],
            payment_risk=PaymentRiskInput(**data["payment_risk"]) if data["payment_risk"] else None,
            delivery_method=data["delivery_method"],
            pickup_location=data["pickup_location"],
            payment_intent=data["payment_intent"],
        )


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class LineCancelInputSerializer(serializers.Serializer):
    quantity = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None, help_text="Omitted: every open unit."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class OrderEventOutputSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = OrderEvent
        fields = ["id", "type", "actor_kind", "actor", "data", "created_at"]


class AllocationOutputSerializer(serializers.Serializer):
    warehouse = serializers.CharField(source="stock.warehouse.code")
    quantity = serializers.IntegerField()


# Hand-written rendering of an order and its lines --------------------------------------
#
# Why: DRF's field-by-field machinery (binding ~50 fields per serializer instance, then
# get_attribute/to_representation per field, line and allocation) took ~2.7 ms for a
# 5-line order on a 2-core machine, on the hot path of order capture and listings; these
# functions take ~0.2 ms. They build exactly the dict DRF's generic
# ModelSerializer.to_representation builds from the declared fields (same keys, order and
# value formats); tests/api/test_order_representation.py holds them equal to it, dicts and
# JSON bytes, so a field added or changed below must be rendered here too. The declared
# fields stay: drf-spectacular builds the OpenAPI schema from them. Under REST_FRAMEWORK
# or USE_TZ settings other than the ones reproduced here, DRF's generic path renders.


def _render_fast() -> bool:
    """Whether the settings are those the hand-written rendering reproduces."""
    datetime_format = api_settings.DATETIME_FORMAT
    return (
        settings.USE_TZ
        and isinstance(datetime_format, str)
        and datetime_format.lower() == ISO_8601
        and api_settings.COERCE_DECIMAL_TO_STRING
        and not api_settings.COERCE_BIGINT_TO_STRING
    )


@cache
def _choice_values() -> dict[str, dict]:
    """Per choice field of the order, DRF's ChoiceField map from str(value) to value."""
    fields = OrderOutputSerializer().fields
    return {
        name: fields[name].choice_strings_to_values
        for name in ("channel", "lifecycle", "payment_status", "fulfillment_status", "delivery_method", "currency")
    }


def _choice(strings_to_values: dict, value):
    """DRF's ChoiceField.to_representation."""
    if value in ("", None):
        return value
    if isinstance(value, Enum) and str(value) != str(value.value):
        value = value.value
    return strings_to_values.get(str(value), value)


_DATETIME_FIELD = serializers.DateTimeField()


def _datetime(value, tz):
    """DRF's DateTimeField.to_representation (ISO 8601, UTC as "Z") in time zone ``tz``."""
    if value is None:
        return None
    if value.__class__ is datetime and value.utcoffset() is not None:
        text = value.astimezone(tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return _DATETIME_FIELD.to_representation(value)  # naive or odd values: DRF's own rules


def _money(value: Money | None) -> dict | None:
    """MoneyField.to_representation (core.serializers) without building a Money."""
    if value is None:
        return None
    code = str(value.currency)
    return {"amount": str(round_amount(value.amount, code)), "currency": code}


_TAX_RATE_PLACES = Decimal(".1") ** 5  # OrderLine.tax_rate: max_digits=8, decimal_places=5


def _tax_rate(value) -> str | None:
    """DRF's DecimalField.to_representation for OrderLine.tax_rate (coerced to a string)."""
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value).strip())
    context = getcontext().copy()
    context.prec = 8
    return f"{value.quantize(_TAX_RATE_PLACES, context=context):f}"


def _quantity_allocated(line: OrderLine) -> int:
    # In line units: a kit's allocations count its components' units.
    return line.quantity_open - line.quantity_backordered


def _line_representation(line: OrderLine) -> dict:
    # NOT NULL columns of a saved row are never None; DRF would render None as None.
    return {
        "id": int(line.id),
        "sku": str(line.sku),
        "name": str(line.name),
        "quantity": int(line.quantity),
        "quantity_allocated": _quantity_allocated(line),
        "quantity_shipped": int(line.quantity_shipped),
        "quantity_cancelled": int(line.quantity_cancelled),
        "quantity_returned": int(line.quantity_returned),
        "quantity_backordered": int(line.quantity_backordered),
        "is_preorder": bool(line.is_preorder),
        "unit_price": _money(line.unit_price),
        "line_total": _money(line.line_total),
        "tax_class": str(line.tax_class),
        "tax_rate": _tax_rate(line.tax_rate),
        "tax_amount": _money(line.tax_amount),
        "allocations": [
            {"warehouse": str(allocation.stock.warehouse.code), "quantity": int(allocation.quantity)}
            for allocation in line.allocations.all()  # prefetched by the selectors: no query
        ],
    }


class OrderLineOutputSerializer(serializers.ModelSerializer):
    unit_price = MoneyField()
    line_total = MoneyField()
    tax_amount = MoneyField()
    quantity_allocated = serializers.SerializerMethodField()
    allocations = AllocationOutputSerializer(many=True, read_only=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "sku",
            "name",
            "quantity",
            "quantity_allocated",
            "quantity_shipped",
            "quantity_cancelled",
            "quantity_returned",
            "quantity_backordered",
            "is_preorder",
            "unit_price",
            "line_total",
            "tax_class",
            "tax_rate",
            "tax_amount",
            "allocations",
        ]

    def get_quantity_allocated(self, line) -> int:
        return _quantity_allocated(line)

    def to_representation(self, line):
        # Hand-written for speed (see above); equal to DRF's generic output.
        if not _render_fast():
            return super().to_representation(line)
        return _line_representation(line)


class OrderOutputSerializer(serializers.ModelSerializer):
    customer = serializers.SerializerMethodField()
    shipping_address = serializers.SerializerMethodField()
    subtotal = MoneyField()
    shipping_total = MoneyField()
    tax_total = MoneyField()
    discount_total = MoneyField()
    total = MoneyField()
    lines = OrderLineOutputSerializer(many=True, read_only=True)
    pickup_location = serializers.CharField(source="pickup_warehouse.code", default="", read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "channel",
            "channel_account",
            "external_id",
            "lifecycle",
            "payment_status",
            "fulfillment_status",
            "customer",
            "shipping_address",
            "billing_address",
            "delivery_method",
            "pickup_location",
            "currency",
            "subtotal",
            "shipping_total",
            "tax_total",
            "discount_total",
            "total",
            "lines",
            "customer_note",
            "cancel_reason",
            "metadata",
            "placed_at",
            "confirmed_at",
            "cancelled_at",
            "ready_for_pickup_at",
            "delivered_at",
            "created_at",
            "updated_at",
        ]

    def get_customer(self, order) -> CustomerSerializer:
        return {"email": order.customer_email, "name": order.customer_name, "phone": order.customer_phone}

    def get_shipping_address(self, order) -> AddressSerializer:
        return order.shipping_address

    def to_representation(self, order):
        # Hand-written for speed (see above); equal to DRF's generic output.
        if not _render_fast():
            return super().to_representation(order)
        choices = _choice_values()
        tz = timezone.get_current_timezone()
        pickup_warehouse = order.pickup_warehouse  # as DRF reads it: a query unless select_related
        billing_address = order.billing_address
        # NOT NULL columns of a saved row are never None; DRF would render None as None.
        return {
            "id": int(order.id),
            "number": int(order.number),
            "channel": _choice(choices["channel"], order.channel),
            "channel_account": str(order.channel_account),
            "external_id": str(order.external_id),
            "lifecycle": _choice(choices["lifecycle"], order.lifecycle),
            "payment_status": _choice(choices["payment_status"], order.payment_status),
            "fulfillment_status": _choice(choices["fulfillment_status"], order.fulfillment_status),
            "customer": self.get_customer(order),
            "shipping_address": self.get_shipping_address(order),
            "billing_address": billing_address,  # JSONField: as stored, None included
            "delivery_method": _choice(choices["delivery_method"], order.delivery_method),
            "pickup_location": "" if pickup_warehouse is None else str(pickup_warehouse.code),
            "currency": _choice(choices["currency"], order.currency),
            "subtotal": _money(order.subtotal),
            "shipping_total": _money(order.shipping_total),
            "tax_total": _money(order.tax_total),
            "discount_total": _money(order.discount_total),
            "total": _money(order.total),
            "lines": [_line_representation(line) for line in order.lines.all()],  # prefetched: no query
            "customer_note": str(order.customer_note),
            "cancel_reason": str(order.cancel_reason),
            "metadata": order.metadata,
            "placed_at": _datetime(order.placed_at, tz),
            "confirmed_at": _datetime(order.confirmed_at, tz),
            "cancelled_at": _datetime(order.cancelled_at, tz),
            "ready_for_pickup_at": _datetime(order.ready_for_pickup_at, tz),
            "delivered_at": _datetime(order.delivered_at, tz),
            "created_at": _datetime(order.created_at, tz),
            "updated_at": _datetime(order.updated_at, tz),
        }
