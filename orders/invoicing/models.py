"""Invoices and credit notes: issued documents, numbered per seller without gaps, and
never changed once issued (a PostgreSQL trigger refuses UPDATE and DELETE on every
table here).

A document holds a snapshot of everything it prints — seller and buyer details, line
descriptions, amounts, tax — so a later change to a product, an address or the seller
never changes an issued document. Its rendered PDF is kept too, written once.
"""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q, Value

from orders.models import Order, order_money
from sellers.models import Seller


class DocumentTrigger(models.TextChoices):
    """What issued the document."""

    SHIPPED = "shipped", "The order shipped"
    PAID = "paid", "The payment was captured"
    MANUAL = "manual", "Issued by staff or the API"
    REFUND = "refund", "A refund needed it"


class LineKind(models.TextChoices):
    PRODUCT = "product", "Product"
    SHIPPING = "shipping", "Shipping"
    DISCOUNT = "discount", "Discount"
    ADJUSTMENT = "adjustment", "Adjustment"
    REFUND = "refund", "Refund"


class IssuedDocument(models.Model):
    """What invoices and credit notes share: the number, the snapshot and the totals."""

    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="+")
    number = models.PositiveBigIntegerField(help_text="Per seller and document type, gap-free.")
    display_number = models.CharField(max_length=32, help_text="As printed, e.g. INV-2026-000042.")
    issued_at = models.DateTimeField()
    actor_label = models.CharField(max_length=150, help_text="Who or what issued it.")

    seller_name = models.CharField(max_length=200)
    seller_address = models.TextField(blank=True)
    seller_tax_id = models.CharField(max_length=64, blank=True)
    seller_email = models.EmailField(blank=True)
    seller_timezone = models.CharField(max_length=64, help_text="Dates print in this time zone.")

    buyer_name = models.CharField(max_length=200, blank=True)
    buyer_email = models.EmailField(blank=True)
    billing_address = models.JSONField(help_text="The order's billing address, or its shipping address.")
    shipping_address = models.JSONField()

    order_number = models.PositiveBigIntegerField()
    order_placed_at = models.DateTimeField(null=True, blank=True)
    order_channel = models.CharField(max_length=16)
    order_external_id = models.CharField(max_length=128, blank=True)

    prices_include_tax = models.BooleanField()
    net_total = order_money()
    tax_total = order_money()
    total = order_money()

    class Meta:
        abstract = True

    def __str__(self):
        return self.display_number


# Half the last of order_money's four decimal places.
_HALF_PLACE = Value(Decimal("0.00005"))


def adds_up(total: str, first: str, second: str, *, name: str) -> models.CheckConstraint:
    """``total = first + second``, to the amounts' four places. Written as a band half a
    place wide rather than as ``=``: SQLite (the embedded default) keeps these columns as
    binary floats, where 1.7 + 0.2 is not 1.9; on PostgreSQL's exact numerics, whose
    values are whole multiples of 0.0001, the band admits equality only."""
    parts = F(first) + F(second)
    return models.CheckConstraint(
        condition=Q(**{f"{total}__gt": parts - _HALF_PLACE, f"{total}__lt": parts + _HALF_PLACE}), name=name
    )


def document_constraints(prefix: str) -> list:
    return [
        models.UniqueConstraint(fields=["seller", "number"], name=f"{prefix}_seller_number_unique"),
        adds_up("total", "net_total", "tax_total", name=f"{prefix}_totals_add_up"),
    ]


class Invoice(IssuedDocument):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    trigger = models.CharField(max_length=16, choices=DocumentTrigger.choices)

    class Meta:
        ordering = ["-id"]
        constraints = [
            *document_constraints("invoice"),
            # One invoice per order: a second request finds this one.
            models.UniqueConstraint(fields=["order"], name="invoice_one_per_order"),
            models.CheckConstraint(condition=Q(trigger__in=DocumentTrigger.values), name="invoice_trigger_valid"),
        ]
        indexes = [models.Index(fields=["seller", "issued_at"], name="invoice_seller_issued_idx")]


class CreditNote(IssuedDocument):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="credit_notes")
    invoice_display_number = models.CharField(max_length=32, help_text="The invoice it credits, as printed.")
    refund_reference = models.CharField(
        max_length=128, help_text="The refund it documents (e.g. a Stripe refund id); one credit note per refund."
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            *document_constraints("credit_note"),
            models.UniqueConstraint(fields=["order", "refund_reference"], name="credit_note_one_per_refund"),
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_total_positive"),
        ]
        indexes = [models.Index(fields=["seller", "issued_at"], name="credit_note_seller_issued_idx")]


class DocumentLine(models.Model):
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=LineKind.choices)
    sku = models.CharField("SKU", max_length=64, blank=True)
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = order_money(help_text="As priced: tax included when the document's prices include tax.")
    tax_rate = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        null=True,
        blank=True,
        help_text="As a fraction (0.2 = 20 %); empty for tax the order carries as a whole, not itemised.",
    )
    net_amount = order_money()
    tax_amount = order_money()
    gross_amount = order_money()

    class Meta:
        abstract = True
        ordering = ["position"]

    def __str__(self):
        return f"{self.quantity} × {self.description}"


def line_constraints(prefix: str, parent: str) -> list:
    return [
        models.UniqueConstraint(fields=[parent, "position"], name=f"{prefix}_position_unique"),
        adds_up("gross_amount", "net_amount", "tax_amount", name=f"{prefix}_amounts_add_up"),
        models.CheckConstraint(condition=Q(kind__in=LineKind.values), name=f"{prefix}_kind_valid"),
    ]


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = line_constraints("invoice_line", "invoice")


class CreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="lines")

    class Meta(DocumentLine.Meta):
        constraints = line_constraints("credit_note_line", "credit_note")


class TaxSummaryLine(models.Model):
    """The document's amounts at one tax rate."""

    tax_rate = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    net_amount = order_money()
    tax_amount = order_money()
    gross_amount = order_money()

    class Meta:
        abstract = True
        ordering = ["tax_rate"]

    def __str__(self):
        return f"{self.tax_rate}: {self.tax_amount}"


class InvoiceTaxLine(TaxSummaryLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="tax_lines")

    class Meta(TaxSummaryLine.Meta):
        constraints = [models.UniqueConstraint(fields=["invoice", "tax_rate"], name="invoice_tax_rate_unique")]


class CreditNoteTaxLine(TaxSummaryLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.PROTECT, related_name="tax_lines")

    class Meta(TaxSummaryLine.Meta):
        constraints = [models.UniqueConstraint(fields=["credit_note", "tax_rate"], name="credit_note_tax_rate_unique")]


class RenderedPdf(models.Model):
    """The PDF as first rendered, kept as issued: a later change to the layout, the
    fonts or the renderer must not change a document the customer already has."""

    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.sha256[:12]


class InvoicePdf(RenderedPdf):
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="pdf")

    class Meta:
        verbose_name = "invoice PDF"


class CreditNotePdf(RenderedPdf):
    credit_note = models.OneToOneField(CreditNote, on_delete=models.PROTECT, related_name="pdf")

    class Meta:
        verbose_name = "credit note PDF"
