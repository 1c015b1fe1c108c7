from decimal import Decimal

import pytest
from djmoney.money import Money

from core.actor import Actor
from shipping.models import CarrierAccount, CarrierKind, ShippingZone, TableRate
from shipping.sandbox.easypost import EasyPostSandbox
from shipping.services.shipments import shipment_pack, shipment_pick_start, shipment_scan, shipments_sync
from tests.factories import ProductFactory, WarehouseFactory, place, stocked

STAFF = Actor.system("test packer")


@pytest.fixture
def shop(seller):
    """Two warehouses, each the only one holding its product: an order of both splits."""
    east = WarehouseFactory(seller=seller, code="EAST", postal_code="07102")
    west = WarehouseFactory(seller=seller, code="WEST", city="Reno", postal_code="89501")
    mug = ProductFactory(seller=seller, sku="MUG", barcode="0001234500001", weight_grams=400)
    tee = ProductFactory(seller=seller, sku="TEE", barcode="0001234500002", weight_grams=200)
    stocked(mug, east, 10)
    stocked(tee, west, 10)
    mug.stocks.filter(warehouse=east).update(bin_location="A-01-02")
    tee.stocks.filter(warehouse=west).update(bin_location="B-07-01")
    return {"seller": seller, "east": east, "west": west, "mug": mug, "tee": tee}


@pytest.fixture
def table_carrier(seller):
    carrier = CarrierAccount.objects.create(
        seller=seller,
        code="post",
        name="Waybill Post",
        kind=CarrierKind.TABLE_RATE,
        tracking_url_template="https://track.example.com/{tracking_number}",
    )
    domestic = ShippingZone.objects.create(seller=seller, carrier=carrier, name="US", countries=["US"])
    boston = ShippingZone.objects.create(
        seller=seller, carrier=carrier, name="Boston", countries=["US"], postal_prefixes=["021"]
    )
    for zone, factor in ((domestic, Decimal(1)), (boston, Decimal("0.5"))):
        for service, name, days, bands in (
            ("ground", "Ground", 5, [(500, "6.00"), (2000, "9.00"), (10000, "15.00")]),
            ("express", "Express", 1, [(500, "18.00"), (2000, "25.00")]),
        ):
            for max_grams, price in bands:
                TableRate.objects.create(
                    seller=seller,
                    zone=zone,
                    service_code=service,
                    service_name=name,
                    transit_days=days,
                    max_weight_grams=max_grams,
                    price=Money(price, "USD") * factor,
                )
    return carrier


def placed(shop, lines, **overrides):
    order = place(shop["seller"], lines, **overrides)
    shipments_sync(seller_id=order.seller_id, order_id=order.pk, actor=STAFF)
    return order


def packed(shipment):
    """Pick and scan every unit of the shipment, then pack it."""
    shipment_pick_start(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)
    for line in shipment.lines.all():
        shipment_scan(
            seller_id=shipment.seller_id, shipment_id=shipment.pk, code=line.barcode or line.sku, quantity=line.quantity
        )
    return shipment_pack(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)


@pytest.fixture
def easypost(settings):
    """The local EasyPost on an ephemeral port, and the settings pointing the SDK at it."""
    sandbox = EasyPostSandbox(api_key="EZTK-test-key", webhook_secret="whsec-test").start()
    settings.WAYBILL_EASYPOST_API_BASE = sandbox.api_base
    settings.WAYBILL_EASYPOST_API_KEY = "EZTK-test-key"
    settings.WAYBILL_EASYPOST_WEBHOOK_SECRET = "whsec-test"
    settings.WAYBILL_CARRIER_TIMEOUT_SECONDS = 5
    yield sandbox
    sandbox.stop()


@pytest.fixture
def easypost_carrier(seller):
    return CarrierAccount.objects.create(seller=seller, code="easypost", name="EasyPost", kind=CarrierKind.EASYPOST)
