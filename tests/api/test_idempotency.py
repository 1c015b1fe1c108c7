from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Stock
from orders.models import IdempotencyRecord, Order
from orders.services.idempotency import idempotency_records_purge
from tests.conftest import client_for, run_at_once
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, order_body, stocked


@pytest.fixture
def mug(seller):
    product = ProductFactory(seller=seller, sku="MUG")
    stocked(product, WarehouseFactory(seller=seller), 10)
    return product


def post(client, body, key):
    return client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_returns_the_first_response_and_creates_nothing(api, mug):
    first = post(api, order_body([("MUG", 2)]), "key-1")
    retry = post(api, order_body([("MUG", 2)]), "key-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert retry["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert Stock.objects.get(product=mug).allocated == 2


@pytest.mark.django_db
def test_key_order_and_whitespace_of_the_body_do_not_matter(api, mug):
    body = order_body([("MUG", 1)])
    post(api, body, "key-2")

    reordered = dict(reversed(list(body.items())))
    assert post(api, reordered, "key-2")["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_a_422_and_creates_nothing(api, mug):
    post(api, order_body([("MUG", 1)]), "key-3")

    response = post(api, order_body([("MUG", 5)]), "key-3")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1
    assert Stock.objects.get(product=mug).allocated == 1


@pytest.mark.django_db
def test_keys_belong_to_one_seller(api, seller, mug, other_seller):
    theirs = ProductFactory(seller=other_seller, sku="MUG")
    stocked(theirs, WarehouseFactory(seller=other_seller), 10)
    post(api, order_body([("MUG", 1)]), "shared-key")

    response = post(client_for(other_seller), order_body([("MUG", 1)]), "shared-key")

    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Order.objects.filter(seller=other_seller).count() == 1


@pytest.mark.django_db
def test_a_refused_request_is_not_stored_so_its_retry_runs_again(api, seller, mug):
    refused = post(api, order_body([("MUG", 20)]), "key-4")
    stocked(mug, seller.warehouses.get(), 15)
    retried = post(api, order_body([("MUG", 20)]), "key-4")

    assert refused.status_code == 409
    assert retried.status_code == 201
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_records_are_kept_a_day_and_then_purged(api, mug):
    post(api, order_body([("MUG", 1)]), "old-key")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(hours=23))
    assert post(api, order_body([("MUG", 1)]), "old-key")["Idempotent-Replayed"] == "true"

    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=3))
    assert idempotency_records_purge() == 1
    assert "Idempotent-Replayed" not in post(api, order_body([("MUG", 1)]), "old-key")
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_an_expired_record_not_yet_purged_frees_its_key(api, mug):
    post(api, order_body([("MUG", 1)]), "stale-key")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=3))

    again = post(api, order_body([("MUG", 2)]), "stale-key")

    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Order.objects.count() == 2
    assert IdempotencyRecord.objects.get().order_id == again.json()["id"]
    assert Stock.objects.get(product=mug).allocated == 3


@pytest.mark.django_db
def test_a_retry_after_the_stock_ran_out_still_gets_the_first_response(api, seller, mug):
    first = post(api, order_body([("MUG", 6)]), "key-5")
    assert post(api, order_body([("MUG", 4)]), "other").status_code == 201  # the last units

    retry = post(api, order_body([("MUG", 6)]), "key-5")

    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Order.objects.count() == 2


@pytest.mark.django_db
def test_a_first_request_does_not_look_its_key_up(api, mug):
    post(api, order_body([("MUG", 1)]), "warm-up")
    with CaptureQueriesContext(connection) as captured:
        assert post(api, order_body([("MUG", 1)]), "fresh-key").status_code == 201
    lookups = [q["sql"] for q in captured if q["sql"].startswith("SELECT") and "orders_idempotencyrecord" in q["sql"]]
    assert lookups == []


@pytest.mark.django_db
def test_an_overlong_key_is_a_400(api, mug):
    response = post(api, order_body([("MUG", 1)]), "k" * 256)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["details"]
    assert Order.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_exactly_one_order():
    seller = SellerFactory()
    product = ProductFactory(seller=seller, sku="MUG")
    stocked(product, WarehouseFactory(seller=seller), 5)
    clients = [client_for(seller) for _ in range(8)]

    responses, errors = run_at_once(
        len(clients), lambda index: post(clients[index], order_body([("MUG", 1)]), "race-key")
    )

    assert errors == []
    assert [r.status_code for r in responses] == [201] * len(clients)
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == len(clients) - 1
    assert Order.objects.filter(seller=seller).count() == 1
    assert Stock.objects.get(product=product).allocated == 1
