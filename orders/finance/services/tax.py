"""Tax at placement: which rule applies to an order, and writing the result on the
unsaved order and its lines (``order_place`` saves them; nothing here touches the
database except reading rates).

Who computes the tax:
- Marketplace orders (amazon, ebay) keep the tax the marketplace charged, at order
  level: it collected it and the figure is a fact about the sale.
- Other channels: the configured engine computes it per line when the seller has tax
  rates; a seller with none keeps the channel's figure, as before. A tax_total the
  storefront sends is then a check: if it differs from the computed one the order is
  refused on ``tax_total`` (see ``orders.services.validation.tax_total_validate``).
"""

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from djmoney.money import Money

from orders.exceptions import InvalidOrder
from orders.finance.tax.base import TAX_METADATA_KEY, TaxRequest, tax_engine
from orders.finance.tax.calculation import OrderTaxes, channel_taxes, discount_split, order_taxes, taxable_charges
from orders.models import Channel, Order, OrderLine
from orders.services.validation import tax_total_validate

MARKETPLACE_CHANNELS = frozenset({Channel.AMAZON, Channel.EBAY})

DISCOUNT_TOO_LARGE = {"discount_total": ["The discount is larger than the order."]}


def order_taxes_compute(*, order: Order, lines: list[OrderLine], channel_tax: Money) -> OrderTaxes:
    """The taxes of a priced, unsaved order: ``subtotal``, ``shipping_total``,
    ``discount_total``, the address, ``placed_at`` and ``seller`` must be set.
    ``channel_tax`` is the figure the channel sent (zero when it sent none)."""
    seller = order.seller
    inclusive = seller.prices_include_tax
    subtotal, shipping, discount = order.subtotal, order.shipping_total, order.discount_total
    if order.channel not in MARKETPLACE_CHANNELS:
        split = discount_split(discount=discount, line_totals=[line.line_total for line in lines], shipping=shipping)
        if split is None:
            raise InvalidOrder(details=DISCOUNT_TOO_LARGE)
        line_charges, shipping_charge = taxable_charges(
            lines=[(line.sku, line.tax_class, line.quantity, line.line_total) for line in lines],
            shipping=shipping,
            split=split,
        )
        engine = tax_engine()
        request = TaxRequest(
            seller_id=seller.pk,
            currency=str(subtotal.currency),
            country=order.ship_country,
            region=order.ship_region,
            postal_code=order.ship_postal_code,
            city=order.ship_city,
            prices_include_tax=inclusive,
            lines=line_charges,
            shipping=shipping_charge,
            on=timezone.localtime(order.placed_at, ZoneInfo(seller.timezone)).date(),
        )
        quote = engine.quote(request)
        if quote is not None:
            return order_taxes(
                request=request,
                quote=quote,
                subtotal=subtotal,
                shipping=shipping,
                discount=discount,
                split=split,
                engine=engine.name,
            )
    taxes = channel_taxes(
        line_count=len(lines),
        subtotal=subtotal,
        shipping=shipping,
        discount=discount,
        tax=channel_tax,
        inclusive=inclusive,
    )
    if taxes.total.amount < 0:
        raise InvalidOrder(details=DISCOUNT_TOO_LARGE)
    return taxes


def order_taxes_apply(*, order: Order, lines: list[OrderLine], taxes: OrderTaxes) -> None:
    """Write the taxes on the unsaved order and lines: copied, so a later change of a
    rate never alters a placed order."""
    for line, taxed in zip(lines, taxes.lines, strict=True):
        line.tax_rate = taxed.rate
        line.tax_amount = taxed.tax
    order.tax_total = taxes.tax_total
    order.total = taxes.total
    order.prices_include_tax = taxes.prices_include_tax
    if taxes.computed:
        order.metadata = {**order.metadata, TAX_METADATA_KEY: taxes.summary()}


def order_taxes_settle(*, order: Order, lines: list[OrderLine], claimed: Decimal | None) -> OrderTaxes:
    """Compute, check against what the order input says (``claimed``: its tax_total,
    None when it sent none) and write the taxes on the unsaved order and lines."""
    currency = str(order.subtotal.currency)
    channel_tax = Money(claimed if claimed is not None else 0, currency)
    taxes = order_taxes_compute(order=order, lines=lines, channel_tax=channel_tax)
    tax_total_validate(
        claimed=claimed,
        tax_total=taxes.tax_total,
        total=taxes.total,
        computed=taxes.computed,
        prices_include_tax=taxes.prices_include_tax,
    )
    order_taxes_apply(order=order, lines=lines, taxes=taxes)
    return taxes
