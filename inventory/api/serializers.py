from django.conf import settings
from rest_framework import serializers

from core.countries import is_country_code
from core.serializers import MoneyField
from inventory.models import Product


class WarehouseAvailabilitySerializer(serializers.Serializer):
    warehouse = serializers.CharField(source="warehouse_code")
    on_hand = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField()


class AvailabilitySerializer(serializers.Serializer):
    on_hand = serializers.IntegerField()
    allocated = serializers.IntegerField()
    available = serializers.IntegerField(help_text="Available to promise: on hand − allocated.")
    warehouses = WarehouseAvailabilitySerializer(many=True)


class ProductOutputSerializer(serializers.ModelSerializer):
    price = MoneyField()
    availability = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "barcode",
            "description",
            "price",
            "weight_grams",
            "length_mm",
            "width_mm",
            "height_mm",
            "is_active",
            "availability",
            "updated_at",
        ]

    def get_availability(self, product) -> AvailabilitySerializer:
        return AvailabilitySerializer(self.context["availability"][product.pk]).data


class DryRunAddressSerializer(serializers.Serializer):
    country = serializers.CharField(min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2, e.g. DE.")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True, default=None
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True, default=None
    )

    def validate_country(self, value: str) -> str:
        if not is_country_code(value.upper()):
            raise serializers.ValidationError(f"{value!r} is not an ISO 3166-1 alpha-2 country code.")
        return value.upper()

    def validate(self, data):
        if (data["latitude"] is None) != (data["longitude"] is None):
            raise serializers.ValidationError({"latitude": ["Give both latitude and longitude, or neither."]})
        return data


class DryRunLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class RoutingDryRunInputSerializer(serializers.Serializer):
    shipping_address = DryRunAddressSerializer()
    lines = serializers.ListField(
        child=DryRunLineSerializer(), allow_empty=False, max_length=settings.WAYBILL_MAX_ORDER_LINES
    )


class DryRunDestinationSerializer(serializers.Serializer):
    country = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    located_by = serializers.CharField(help_text='"storefront", "postal_code", "city", or "" (not located).')


class DryRunShipmentLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class DryRunShipmentSerializer(serializers.Serializer):
    warehouse = serializers.CharField(help_text="The warehouse code.")
    lines = DryRunShipmentLineSerializer(many=True)
    distance_km = serializers.FloatField(allow_null=True, help_text="Null when the address could not be located.")
    cost = serializers.CharField(help_text="Handling plus distance cost, in the seller's currency.")


class DryRunShortageSerializer(serializers.Serializer):
    sku = serializers.CharField()
    requested = serializers.IntegerField()
    available = serializers.IntegerField()


class RoutingDryRunOutputSerializer(serializers.Serializer):
    strategy = serializers.CharField()
    destination = DryRunDestinationSerializer()
    shipments = DryRunShipmentSerializer(many=True)
    shortages = DryRunShortageSerializer(many=True)
    reason = serializers.CharField()
