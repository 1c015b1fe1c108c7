import pytest

from orders.models import RiskRule
from tests.factories import ProductFactory, WarehouseFactory, stocked


@pytest.fixture
def shop(seller):
    """A seller with two $10 products, 100 units of each in one warehouse."""
    warehouse = WarehouseFactory(seller=seller)
    mug = ProductFactory(seller=seller, sku="MUG")
    tea = ProductFactory(seller=seller, sku="TEA")
    stocked(mug, warehouse, 100)
    stocked(tea, warehouse, 100)
    return seller


def enable(seller, kind, **params) -> RiskRule:
    return RiskRule.objects.create(seller=seller, kind=kind, params=params)
