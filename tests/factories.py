import factory
from django.contrib.auth import get_user_model
from djmoney.money import Money

from core.actor import Actor
from inventory.models import Product, Warehouse
from inventory.services import stock_receive
from orders.services import AddressInput, LineInput, OrderInput, order_place
from sellers.models import Seller, StaffMembership, StaffRole


class SellerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Seller

    name = factory.Sequence(lambda n: f"Seller {n}")
    slug = factory.Sequence(lambda n: f"seller-{n}")
    country = "US"
    base_currency = "USD"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "password")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    seller = factory.SubFactory(SellerFactory)
    role = StaffRole.MANAGER


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    seller = factory.SubFactory(SellerFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Money("10.00", "USD")
    weight_grams = 500


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    seller = factory.SubFactory(SellerFactory)
    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    address_line1 = "1 Dock Street"
    city = "Newark"
    postal_code = "07102"
    country = "US"
    priority = 100


def stocked(product, warehouse, quantity: int):
    return stock_receive(product=product, warehouse=warehouse, quantity=quantity, actor=Actor.system("test"))


ADDRESS = AddressInput(name="Ada Lovelace", line1="12 Analytical Way", city="Boston", country="US", postal_code="02110")


def order_input(lines: list[tuple[str, int]], **overrides) -> OrderInput:
    fields = {
        "currency": "USD",
        "shipping_address": ADDRESS,
        "customer_email": "ada@example.com",
        "lines": [LineInput(sku=sku, quantity=qty) for sku, qty in lines],
    }
    fields.update(overrides)
    return OrderInput(**fields)


def place(seller, lines: list[tuple[str, int]], **overrides):
    return order_place(seller=seller, data=order_input(lines, **overrides), actor=Actor.system("test"))


ORDER_BODY = {
    "currency": "USD",
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "shipping_address": {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Way",
        "city": "Boston",
        "postal_code": "02110",
        "country": "US",
    },
}


def order_body(lines: list[tuple[str, int]], **overrides) -> dict:
    body = {**ORDER_BODY, "lines": [{"sku": sku, "quantity": qty} for sku, qty in lines]}
    body.update(overrides)
    return body
