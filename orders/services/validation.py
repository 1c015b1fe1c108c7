"""Checks before entry: everything that can be known without a lock. Collects every
problem, keyed by field path, so a storefront can show them all at once."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from djmoney.money import Money

from core.countries import is_country_code
from core.money import is_on_minor_unit_grid
from inventory.models import Product
from orders.exceptions import InvalidOrder
from orders.finance.tax.base import TAX_METADATA_KEY
from orders.models import Channel
from orders.services.inputs import AddressInput, LineInput, OrderInput


@dataclass(frozen=True, slots=True)
class PolicyLimits:
    """A seller's ``OrderPolicy`` as plain data; an empty field is no limit."""

    max_order_values: Mapping[str, Decimal] = field(default_factory=dict)
    max_line_quantity: int | None = None
    max_lines: int | None = None
    allowed_countries: frozenset[str] = frozenset()
    blocked_countries: frozenset[str] = frozenset()


# Countries whose addresses have no postal code (or none in common use).
COUNTRIES_WITHOUT_POSTAL_CODES = frozenset(
    {
        "AE",
        "AG",
        "AO",
        "AW",
        "BF",
        "BI",
        "BJ",
        "BO",
        "BS",
        "BW",
        "BZ",
        "CD",
        "CF",
        "CG",
        "CI",
        "CM",
        "DJ",
        "DM",
        "ER",
        "FJ",
        "GA",
        "GD",
        "GH",
        "GM",
        "GQ",
        "GY",
        "HK",
        "IE",
        "JM",
        "KI",
        "KM",
        "KN",
        "LC",
        "ML",
        "MO",
        "MR",
        "MW",
        "NR",
        "NU",
        "PA",
        "QA",
        "RW",
        "SB",
        "SC",
        "SL",
        "SR",
        "ST",
        "SY",
        "TD",
        "TG",
        "TK",
        "TL",
        "TO",
        "TT",
        "TV",
        "UG",
        "VU",
        "YE",
        "ZW",
    }
)


def address_errors(address: AddressInput, prefix: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in ("name", "line1", "city", "country"):
        if not getattr(address, name).strip():
            errors[f"{prefix}.{name}"] = ["This field is required."]
    if address.country and not is_country_code(address.country):
        errors[f"{prefix}.country"] = [f"{address.country!r} is not an ISO 3166-1 alpha-2 country code."]
    elif address.country not in COUNTRIES_WITHOUT_POSTAL_CODES and address.country and not address.postal_code.strip():
        errors[f"{prefix}.postal_code"] = [f"A postal code is required for {address.country}."]
    if (address.latitude is None) != (address.longitude is None):
        errors[f"{prefix}.latitude"] = ["Give both latitude and longitude, or neither."]
    elif address.latitude is not None and not (-90 <= address.latitude <= 90 and -180 <= address.longitude <= 180):
        errors[f"{prefix}.latitude"] = ["Coordinates are out of range."]
    return errors


def _amount_errors(amount: Decimal | None, currency: str) -> list[str]:
    if amount is None:
        return []
    if not amount.is_finite() or amount < 0:
        return ["Must be zero or more."]
    if currency in settings.WAYBILL_CURRENCIES and not is_on_minor_unit_grid(amount, currency):
        return [f"{currency} amounts cannot have more decimals than its minor unit."]
    return []


def destination_errors(
    *, country: str, limits: PolicyLimits | None, lines: Sequence[LineInput], products_by_sku: Mapping[str, Product]
) -> dict[str, list[str]]:
    """Where the seller, and each product, may not be sent."""
    errors: dict[str, list[str]] = {}
    if limits is not None and (
        country in limits.blocked_countries or (limits.allowed_countries and country not in limits.allowed_countries)
    ):
        errors["shipping_address.country"] = [f"Orders to {country} are not accepted."]
    for index, line in enumerate(lines):
        product = products_by_sku.get(line.sku)
        if product is not None and country in product.restricted_countries:
            errors[f"lines.{index}.sku"] = [f"{line.sku!r} cannot be shipped to {country}."]
    return errors


def _limit_errors(*, limits: PolicyLimits, lines: Sequence[LineInput]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if limits.max_lines is not None and len(lines) > limits.max_lines:
        errors["lines"] = [f"At most {limits.max_lines} lines per order."]
    if limits.max_line_quantity is not None:
        for index, line in enumerate(lines):
            if isinstance(line.quantity, int) and line.quantity > limits.max_line_quantity:
                errors[f"lines.{index}.quantity"] = [f"At most {limits.max_line_quantity} units per line."]
    return errors


def order_total_validate(*, limits: PolicyLimits | None, total: Money) -> None:
    """The seller's largest accepted order in the order's currency. Checked once the
    order is priced; raises InvalidOrder on the ``total`` field."""
    if limits is None:
        return
    currency = str(total.currency)
    ceiling = limits.max_order_values.get(currency)
    if ceiling is not None and total.amount > ceiling:
        raise InvalidOrder(
            details={"total": [f"Orders above {ceiling} {currency} are not accepted; this one is {total.amount}."]}
        )


def tax_total_validate(
    *, claimed: Decimal | None, tax_total: Money, total: Money, computed: bool, prices_include_tax: bool
) -> None:
    """The tax an order input states, against the tax Waybill settled on. When Waybill
    computed it from the seller's rates, a stated figure must equal it to the minor
    unit (the customer was shown one of them); None means none was stated. A figure
    kept from the channel cannot, with tax-inclusive prices, exceed the total it is
    part of. Raises InvalidOrder on ``tax_total``."""
    if computed and claimed is not None and claimed != tax_total.amount:
        raise InvalidOrder(
            details={
                "tax_total": [
                    f"The seller's tax rates give {tax_total.amount} {tax_total.currency} of tax for this order, "
                    f"not {claimed}. Send the computed figure or leave tax_total out."
                ]
            }
        )
    if not computed and prices_include_tax and tax_total > total:
        raise InvalidOrder(
            details={"tax_total": ["Prices include tax: the tax cannot be larger than the order total."]}
        )


def order_input_validate(
    *, data: OrderInput, products_by_sku: Mapping[str, Product], limits: PolicyLimits | None = None
) -> None:
    """Raise InvalidOrder with every problem found; return quietly if there are none.
    ``limits`` are the seller's policy (None: no policy); the total is checked later,
    by ``order_total_validate``, once the order is priced."""
    errors: dict[str, list[str]] = {}
    currency = data.currency
    if currency not in settings.WAYBILL_CURRENCIES:
        errors["currency"] = [f"{currency!r} is not a supported currency: {', '.join(settings.WAYBILL_CURRENCIES)}."]
    if data.channel not in Channel.values:
        errors["channel"] = [f"{data.channel!r} is not a channel."]
    if data.external_id and len(data.external_id) > 128:
        errors["external_id"] = ["At most 128 characters."]

    if not data.lines:
        errors["lines"] = ["An order needs at least one line."]
    elif len(data.lines) > settings.WAYBILL_MAX_ORDER_LINES:
        errors["lines"] = [f"At most {settings.WAYBILL_MAX_ORDER_LINES} lines per order."]
    for index, line in enumerate(data.lines):
        prefix = f"lines.{index}"
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            errors[f"{prefix}.quantity"] = ["Must be a positive whole number."]
        product = products_by_sku.get(line.sku)
        if product is None:
            errors[f"{prefix}.sku"] = [f"Unknown SKU {line.sku!r}."]
        elif not product.is_active:
            errors[f"{prefix}.sku"] = [f"{line.sku!r} is not for sale."]
        elif line.unit_price is None and str(product.price.currency) != currency:
            errors[f"{prefix}.unit_price"] = [
                f"Required: the product is priced in {product.price.currency}, the order in {currency}."
            ]
        if price_errors := _amount_errors(line.unit_price, currency):
            errors[f"{prefix}.unit_price"] = price_errors

    errors.update(address_errors(data.shipping_address, "shipping_address"))
    if data.billing_address is not None:
        errors.update(address_errors(data.billing_address, "billing_address"))

    for name in ("shipping_total", "tax_total", "discount_total"):
        if amount_errors := _amount_errors(getattr(data, name), currency):
            errors[name] = amount_errors
    if isinstance(data.metadata, Mapping) and TAX_METADATA_KEY in data.metadata:
        errors[f"metadata.{TAX_METADATA_KEY}"] = ["Reserved: Waybill writes the order's tax breakdown here."]

    # Policy refusals come after the structural ones: a field already wrong keeps its
    # first, more basic message.
    policy_errors = destination_errors(
        country=data.shipping_address.country, limits=limits, lines=data.lines, products_by_sku=products_by_sku
    )
    if limits is not None:
        policy_errors.update(_limit_errors(limits=limits, lines=data.lines))
    for path, messages in policy_errors.items():
        errors.setdefault(path, messages)
    if errors:
        raise InvalidOrder(details=errors)
