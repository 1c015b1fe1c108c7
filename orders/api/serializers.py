from decimal import Decimal

from rest_framework import serializers

from core.serializers import MoneyField
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


class OrderCreateInputSerializer(serializers.Serializer):
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
        # In line units: a kit's allocations count its components' units.
        return line.quantity_open - line.quantity_backordered


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
