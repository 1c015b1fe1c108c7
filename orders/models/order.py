from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Replace, Upper
from djmoney.models.fields import MoneyField

from core.models import TimeStampedModel
from inventory.models import Product, Stock, Warehouse
from orders.status import FulfillmentStatus, Lifecycle, PaymentStatus
from sellers.models import Seller


class Channel(models.TextChoices):
    STOREFRONT = "storefront", "Storefront"
    POS = "pos", "Point of sale"
    MANUAL = "manual", "Manual"
    AMAZON = "amazon", "Amazon"
    EBAY = "ebay", "eBay"


class DeliveryMethod(models.TextChoices):
    SHIP = "ship", "Ship to the address"
    PICKUP = "pickup", "Collect at a pickup location"


# Channels a storefront API key may place orders for; marketplace channels belong
# to the marketplace importers.
API_CHANNELS = (Channel.STOREFRONT, Channel.POS, Channel.MANUAL)

# A customer and a postal code as the risk checks compare them: ignoring case (and, for
# the postal code, spaces). Indexed per seller; a query must use these very expressions
# for the indexes to serve it.
CUSTOMER_EMAIL_KEY = Upper("customer_email")
SHIP_POSTAL_CODE_KEY = Upper(Replace("ship_postal_code", Value(" "), Value("")))


def order_money(**kwargs) -> MoneyField:
    """A money field of an order or line: all share the row's one ``currency`` column,
    so a row cannot mix currencies."""
    return MoneyField(max_digits=19, decimal_places=4, currency_field_name="currency", default_currency="USD", **kwargs)


class Order(TimeStampedModel):
    # No index of its own: every index below starts with the seller.
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="orders", db_index=False)
    number = models.PositiveBigIntegerField(help_text="Per-seller, gap-free.")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.STOREFRONT)
    channel_account = models.CharField(
        max_length=64, blank=True, help_text="The marketplace account or shop the order came through."
    )
    external_id = models.CharField(max_length=128, blank=True, help_text="The order's id in its channel.")

    customer_email = models.EmailField(blank=True)
    customer_name = models.CharField(max_length=200, blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)

    ship_name = models.CharField(max_length=200)
    ship_company = models.CharField(max_length=200, blank=True)
    ship_line1 = models.CharField(max_length=200)
    ship_line2 = models.CharField(max_length=200, blank=True)
    ship_city = models.CharField(max_length=100)
    ship_region = models.CharField(max_length=100, blank=True)
    ship_postal_code = models.CharField(max_length=20, blank=True)
    ship_country = models.CharField(max_length=2)
    ship_phone = models.CharField(max_length=40, blank=True)
    ship_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    ship_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    billing_address = models.JSONField(null=True, blank=True, help_text="Empty: same as shipping.")
    delivery_method = models.CharField(max_length=8, choices=DeliveryMethod.choices, default=DeliveryMethod.SHIP)
    pickup_warehouse = models.ForeignKey(
        Warehouse,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Where a click-and-collect order is collected; it routes to this location only.",
    )

    subtotal = order_money()
    shipping_total = order_money(default=0)
    tax_total = order_money(default=0)
    discount_total = order_money(default=0)
    total = order_money()
    prices_include_tax = models.BooleanField(
        default=False,
        help_text="Whether the prices included tax when the order was placed (the seller's setting then).",
    )

    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.DRAFT)
    payment_status = models.CharField(max_length=24, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID)
    fulfillment_status = models.CharField(
        max_length=24, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNALLOCATED
    )

    placed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    ready_for_pickup_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="Starts the return window.")
    cancel_reason = models.CharField(max_length=255, blank=True)
    payment_risk_level = models.CharField(
        max_length=16, blank=True, help_text="The payment processor's verdict, e.g. normal, elevated, highest."
    )
    payment_risk_score = models.PositiveSmallIntegerField(null=True, blank=True)
    customer_note = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller", "number"], name="order_seller_number_unique"),
            models.UniqueConstraint(
                fields=["seller", "channel", "channel_account", "external_id"],
                condition=~models.Q(external_id=""),
                name="order_channel_external_id_unique",
            ),
            models.CheckConstraint(condition=models.Q(lifecycle__in=Lifecycle.values), name="order_lifecycle_valid"),
            models.CheckConstraint(
                condition=models.Q(payment_status__in=PaymentStatus.values), name="order_payment_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(fulfillment_status__in=FulfillmentStatus.values),
                name="order_fulfillment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(delivery_method__in=DeliveryMethod.values), name="order_delivery_method_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(delivery_method=DeliveryMethod.SHIP, pickup_warehouse__isnull=True)
                | models.Q(delivery_method=DeliveryMethod.PICKUP, pickup_warehouse__isnull=False),
                name="order_pickup_has_location",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    subtotal__gte=0, shipping_total__gte=0, tax_total__gte=0, discount_total__gte=0, total__gte=0
                ),
                name="order_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["seller", "id"], name="order_seller_id_idx"),
            models.Index(fields=["seller", "updated_at", "id"], name="order_seller_updated_idx"),
            models.Index(fields=["seller", "lifecycle", "id"], name="order_seller_lifecycle_idx"),
            models.Index(fields=["seller", "created_at"], name="order_seller_created_idx"),
            # Sales reports by the day an order was placed (a marketplace's purchase date).
            models.Index(fields=["seller", "placed_at"], name="order_seller_placed_idx"),
            models.Index(fields=["seller", "customer_email"], name="order_seller_email_idx"),
            models.Index(F("seller"), CUSTOMER_EMAIL_KEY, name="order_seller_email_key_idx"),
            models.Index(F("seller"), SHIP_POSTAL_CODE_KEY, name="order_seller_postal_key_idx"),
        ]

    def __str__(self):
        return f"#{self.number}"

    @property
    def shipping_address(self) -> dict:
        return {
            "name": self.ship_name,
            "company": self.ship_company,
            "line1": self.ship_line1,
            "line2": self.ship_line2,
            "city": self.ship_city,
            "region": self.ship_region,
            "postal_code": self.ship_postal_code,
            "country": self.ship_country,
            "phone": self.ship_phone,
        }


class OrderLine(models.Model):
    # Served by the unique (order, position) index: no index of its own.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    sku = models.CharField("SKU", max_length=64, help_text="As ordered; kept if the product is renamed.")
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    quantity_shipped = models.PositiveIntegerField(default=0)
    quantity_cancelled = models.PositiveIntegerField(default=0)
    quantity_returned = models.PositiveIntegerField(default=0)
    quantity_backordered = models.PositiveIntegerField(
        default=0, help_text="Open units waiting for stock (backorder or preorder), allocated first come first served."
    )
    is_preorder = models.BooleanField(default=False)
    unit_price = order_money()
    line_total = order_money(help_text="Unit price × quantity, as priced (tax included when the seller's prices are).")
    tax_class = models.CharField(max_length=32, blank=True)
    tax_rate = models.DecimalField(
        max_digits=8, decimal_places=5, default=0, help_text="As a fraction (0.2 = 20 %), fixed when placed."
    )
    tax_amount = order_money(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="line_order_position_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=models.F("quantity_shipped") + models.F("quantity_cancelled")),
                name="line_shipped_cancelled_within_quantity",
            ),
            models.CheckConstraint(
                condition=models.Q(quantity_returned__lte=models.F("quantity_shipped")),
                name="line_returned_within_shipped",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    quantity_backordered__lte=models.F("quantity")
                    - models.F("quantity_shipped")
                    - models.F("quantity_cancelled")
                ),
                name="line_backordered_within_open",
            ),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0, line_total__gte=0, tax_amount__gte=0, tax_rate__gte=0),
                name="line_amounts_not_negative",
            ),
        ]
        indexes = [
            # The backorder queue: lines waiting for a product's stock, oldest first.
            models.Index(
                fields=["product", "id"], name="line_backorder_idx", condition=models.Q(quantity_backordered__gt=0)
            ),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.sku}"

    @property
    def quantity_open(self) -> int:
        """Ordered and neither shipped nor cancelled."""
        return self.quantity - self.quantity_shipped - self.quantity_cancelled


class Allocation(models.Model):
    """Units of a line reserved in one warehouse's stock row (``Stock.allocated``
    counts the same units). A split order has several per line."""

    # Served by the unique (line, stock) index: no index of its own.
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="allocations", db_index=False)
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="order_allocations")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "stock"], name="allocation_line_stock_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="allocation_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.line_id} from stock {self.stock_id}"
