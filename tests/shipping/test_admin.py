"""The shipping admin as staff use it: queue, packing screen, bulk actions, scoping."""

import io
import zipfile

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from inventory.models import Stock
from sellers.models import StaffRole
from shipping.models import PickWave, Shipment
from shipping.services.labels import shipment_label_buy
from shipping.services.shipments import shipment_pack, shipment_scan, shipments_sync
from shipping.status import ShipmentStatus
from tests.factories import MembershipFactory, ProductFactory, SellerFactory, WarehouseFactory, place, stocked
from tests.shipping.conftest import STAFF, placed

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:shipping_shipment_changelist")


def login(client, seller, role=StaffRole.STAFF):
    user = MembershipFactory(seller=seller, role=role).user
    client.force_login(user)
    return user


def act(client, action, *shipments):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [s.pk for s in shipments], "index": 0})


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_packing_screen_refuses_a_wrong_item_and_packs_when_all_is_scanned(client, shop):
    order = placed(shop, [("MUG", 2)])
    shipment = Shipment.objects.get(order=order)
    login(client, shop["seller"])
    url = reverse("admin:shipping_shipment_pack", args=[shipment.pk])

    client.post(url, {"start": "1"})
    wrong = client.post(url, {"code": "0001234500002", "quantity": 1}, follow=True)
    assert any("is not in shipment" in m for m in messages_of(wrong))
    early = client.post(url, {"close": "1"}, follow=True)
    assert any("missing scans: 2 × MUG" in m for m in messages_of(early))
    client.post(url, {"code": "0001234500001", "quantity": 2})
    page = client.get(url)
    assert b"2 / 2" in page.content

    client.post(url, {"close": "1"})

    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.PACKED


def test_bulk_wave_pick_list_labels_and_mark_shipped(client, shop, table_carrier):
    first = placed(shop, [("MUG", 1)])
    second = placed(shop, [("MUG", 2)])
    shipments = list(Shipment.objects.filter(order__in=[first, second]).order_by("pk"))
    login(client, shop["seller"])

    act(client, "create_wave", *shipments)
    assert PickWave.objects.get().shipments.count() == 2
    pick = act(client, "print_pick_list", *shipments)
    assert pick["Content-Type"] == "application/pdf" and pick.content.startswith(b"%PDF")

    for shipment in shipments:
        packed_shipment = packed_after_picking(shipment)
        shipment_label_buy(seller_id=packed_shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)
    labels = act(client, "print_labels", *shipments)
    assert len(zipfile.ZipFile(io.BytesIO(labels.content)).namelist()) == 2

    act(client, "mark_shipped", *shipments)

    assert set(Shipment.objects.filter(pk__in=[s.pk for s in shipments]).values_list("status", flat=True)) == {
        "shipped"
    }
    stock = Stock.objects.get(product=shop["mug"], warehouse=shop["east"])
    assert (stock.on_hand, stock.allocated) == (7, 0)


def packed_after_picking(shipment):
    for line in shipment.lines.all():
        shipment_scan(seller_id=shipment.seller_id, shipment_id=shipment.pk, code=line.sku, quantity=line.quantity)
    return shipment_pack(seller_id=shipment.seller_id, shipment_id=shipment.pk, actor=STAFF)


def test_queue_and_pages_show_only_the_users_sellers_shipments(client, shop):
    mine = Shipment.objects.get(order=placed(shop, [("MUG", 1)]))
    other = SellerFactory(name="Other")
    product = ProductFactory(seller=other, sku="OTHER")
    stocked(product, WarehouseFactory(seller=other, code="OTHERWH"), 5)
    order = place(other, [("OTHER", 1)])
    shipments_sync(seller_id=other.pk, order_id=order.pk, actor=STAFF)
    theirs = Shipment.objects.get(order=order)
    login(client, shop["seller"], role=StaffRole.VIEWER)

    queue = client.get(reverse("admin:shipping_shipment_queue"))
    assert queue.status_code == 200
    assert b"EAST" in queue.content and b"OTHERWH" not in queue.content
    assert client.get(reverse("admin:shipping_shipment_change", args=[theirs.pk])).status_code == 302
    assert client.get(reverse("admin:shipping_shipment_pack", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:shipping_shipment_packing_slip", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("admin:shipping_shipment_change", args=[mine.pk])).status_code == 200
    # A viewer sees but cannot act.
    client.post(reverse("admin:shipping_shipment_pack", args=[mine.pk]), {"start": "1"})
    mine.refresh_from_db()
    assert mine.status == ShipmentStatus.PENDING


def test_shipment_changelist_query_count_does_not_grow_with_rows(client, shop, django_assert_max_num_queries):
    for _ in range(6):
        placed(shop, [("MUG", 1), ("TEE", 1)])
    login(client, shop["seller"])
    with django_assert_max_num_queries(12):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.content.count(b"/admin/orders/order/") >= 12
