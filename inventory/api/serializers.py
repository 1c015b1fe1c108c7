from rest_framework import serializers

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
