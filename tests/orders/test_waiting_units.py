"""waiting_units: the units older orders are waiting for, per product, a kit's counted in
its components; a new order must not take them."""

import pytest

from inventory.models import BackorderPolicy, KitComponent, ProductKind
from orders.services.allocation import waiting_units
from tests.factories import ProductFactory, WarehouseFactory, place, stocked

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(seller):
    return WarehouseFactory(seller=seller)


def test_loose_and_kit_lines_count_in_the_components(seller, east):
    candle = ProductFactory(seller=seller, sku="CANDLE", backorder_policy=BackorderPolicy.ALLOW)
    holder = ProductFactory(seller=seller, sku="HOLDER", backorder_policy=BackorderPolicy.ALLOW)
    kit = ProductFactory(seller=seller, sku="KIT", kind=ProductKind.KIT, backorder_policy=BackorderPolicy.ALLOW)
    KitComponent.objects.create(kit=kit, component=candle, quantity=2)
    KitComponent.objects.create(kit=kit, component=holder, quantity=1)
    stocked(candle, east, 1)
    stocked(holder, east, 1)
    place(seller, [("CANDLE", 3)])  # 2 candles wait
    place(seller, [("KIT", 2)])  # nothing left: 2 kits wait, i.e. 4 candles and 2 holders

    assert waiting_units(seller_id=seller.pk, product_ids={candle.pk, holder.pk}) == {candle.pk: 6, holder.pk: 2}
    assert waiting_units(seller_id=seller.pk, product_ids={holder.pk}) == {holder.pk: 2}
    assert waiting_units(seller_id=seller.pk, product_ids=set()) == {}


def test_a_wanted_product_counts_as_itself_even_with_stray_component_rows(seller, east):
    """A simple product that kept component rows (the admin shows the inline on every
    product), or a kit inside another kit: asked for itself, it is not expanded."""
    cord = ProductFactory(seller=seller, sku="CORD")
    lamp = ProductFactory(seller=seller, sku="LAMP", backorder_policy=BackorderPolicy.ALLOW)
    KitComponent.objects.create(kit=lamp, component=cord, quantity=2)  # stray: the lamp is simple
    stocked(cord, east, 10)
    stocked(lamp, east, 1)
    place(seller, [("LAMP", 6)])  # 5 lamps wait

    assert waiting_units(seller_id=seller.pk, product_ids={lamp.pk, cord.pk}) == {lamp.pk: 5}
