from decimal import Decimal

from djmoney.money import Money

from core.money import round_money
from orders.finance.models import TaxRate
from orders.services import AddressInput
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, stocked

NEW_YORK = AddressInput(
    name="Ada Lovelace", line1="350 5th Ave", city="New York", region="NY", postal_code="10118", country="US"
)
PORTLAND = AddressInput(
    name="Ada Lovelace", line1="1 Pine St", city="Portland", region="OR", postal_code="97204", country="US"
)
BERLIN = AddressInput(name="Ada Lovelace", line1="Unter den Linden 1", city="Berlin", postal_code="10117", country="DE")
OSLO = AddressInput(name="Ada Lovelace", line1="Karl Johans gate 1", city="Oslo", postal_code="0150", country="NO")


def rate(seller, country: str, value: str, *, region: str = "", tax_class: str = "standard", **fields) -> TaxRate:
    return TaxRate.objects.create(
        seller=seller,
        country=country,
        region=region,
        tax_class=tax_class,
        rate=Decimal(value),
        name=fields.pop("name", f"{country}{'-' + region if region else ''} {tax_class}"),
        **fields,
    )


def shop(*, currency: str = "USD", inclusive: bool = False, products: dict[str, tuple[str, str]] | None = None):
    """A seller with stocked products: sku → (price, tax class)."""
    seller = SellerFactory(base_currency=currency, prices_include_tax=inclusive)
    warehouse = WarehouseFactory(seller=seller)
    for sku, (price, tax_class) in (products or {}).items():
        product = ProductFactory(seller=seller, sku=sku, price=Money(price, currency), tax_class=tax_class)
        stocked(product, warehouse, 1000)
    return seller


def text(money: Money) -> str:
    """An amount as the API shows it: on the currency's grid (the database keeps 4 places)."""
    return str(round_money(money).amount)


def amounts(order) -> dict[str, str]:
    return {
        name: text(getattr(order, name))
        for name in ("subtotal", "shipping_total", "tax_total", "discount_total", "total")
    }
