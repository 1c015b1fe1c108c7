from rest_framework import serializers

from core.serializers import MoneyField
from shipping.models import Parcel, Shipment, ShipmentLine, TrackingEvent


class ShipmentLineOutputSerializer(serializers.ModelSerializer):
    line_id = serializers.IntegerField(source="order_line_id", help_text="The order line this covers.")
    ordered_sku = serializers.CharField(
        source="order_line.sku", help_text="The line's SKU; differs from `sku` for a kit's component."
    )

    class Meta:
        model = ShipmentLine
        fields = ["line_id", "ordered_sku", "sku", "name", "quantity", "quantity_packed"]


class ParcelOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Parcel
        fields = ["weight_grams", "length_mm", "width_mm", "height_mm"]


class TrackingEventOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["status", "message", "location", "occurred_at"]


class ShipmentOutputSerializer(serializers.ModelSerializer):
    order_id = serializers.IntegerField()
    warehouse = serializers.CharField(source="warehouse.code")
    carrier = serializers.SerializerMethodField()
    postage = MoneyField(allow_null=True)
    lines = ShipmentLineOutputSerializer(many=True, read_only=True)
    parcels = ParcelOutputSerializer(many=True, read_only=True)
    tracking_events = TrackingEventOutputSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "number",
            "order_id",
            "status",
            "warehouse",
            "carrier",
            "service_code",
            "service_name",
            "transit_days",
            "postage",
            "tracking_number",
            "tracking_url",
            "ship_by",
            "shipped_at",
            "delivered_at",
            "lines",
            "parcels",
            "tracking_events",
        ]

    def get_carrier(self, shipment) -> str | None:
        return shipment.carrier.name if shipment.carrier_id else None

    def to_representation(self, shipment):
        data = super().to_representation(shipment)
        if shipment.postage is None:
            data["postage"] = None
        return data


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class QuoteAddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    line1 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    region = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    country = serializers.RegexField(r"^[A-Za-z]{2}$", help_text="ISO 3166-1 alpha-2, e.g. US.")


class RateQuoteInputSerializer(serializers.Serializer):
    lines = QuoteLineSerializer(many=True, allow_empty=False, max_length=500)
    address = QuoteAddressSerializer()
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", required=False, help_text="Quotes in this currency first; default: the seller's."
    )


class RateOptionSerializer(serializers.Serializer):
    carrier = serializers.CharField(help_text="Pass as metadata.shipping.carrier when placing the order.")
    carrier_name = serializers.CharField()
    service = serializers.CharField(help_text="Pass as metadata.shipping.service.")
    service_name = serializers.CharField()
    amount = MoneyField()
    transit_days = serializers.IntegerField(allow_null=True)


class RateQuoteOutputSerializer(serializers.Serializer):
    shipments = serializers.IntegerField(help_text="Parcels the basket would ship in (one per warehouse).")
    options = RateOptionSerializer(many=True, help_text="Cheapest first.")
    unavailable = serializers.DictField(
        child=serializers.CharField(), help_text="Carriers that could not quote, with the reason."
    )


class TrackingPushOutputSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    new_events = serializers.IntegerField()


class ShipmentScanInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, help_text="The barcode scanned, or the SKU typed.")
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, default=1)


class ShipmentScanOutputSerializer(serializers.Serializer):
    line = ShipmentLineOutputSerializer(help_text="The line the units were counted on.")
    complete = serializers.BooleanField(help_text="Every unit of the shipment is in the box: it may be packed.")


class ParcelInputSerializer(serializers.Serializer):
    weight_grams = serializers.IntegerField(min_value=1, max_value=1_000_000)
    length_mm = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    width_mm = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    height_mm = serializers.IntegerField(min_value=0, max_value=10_000, default=0)


class ShipmentPackInputSerializer(serializers.Serializer):
    parcels = ParcelInputSerializer(
        many=True,
        required=False,
        max_length=50,
        help_text="The boxes as weighed; left out, one box is estimated from the products.",
    )


class ShipmentLabelBuyInputSerializer(serializers.Serializer):
    carrier_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="One of the seller's carrier accounts; left out, the cheapest that keeps the promise.",
    )
    service_code = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="For the manual carrier: the number typed in.",
    )
