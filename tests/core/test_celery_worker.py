"""A real Celery worker process on the configured broker (Redis in CI) relays an
order's outbox event after commit and the customer gets the confirmation email."""

import time
from pathlib import Path

import pytest

from core.models import OutboxEvent
from tests.celery_worker import worker_start, worker_stop
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, place, stocked

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path):
    mail_dir = tmp_path / "mail"
    process = worker_start(mail_dir=mail_dir)
    yield mail_dir, process
    worker_stop(process)


def test_worker_relays_the_order_event_and_emails_the_customer(worker):
    mail_dir, process = worker
    seller = SellerFactory(name="Northwind")
    stocked(ProductFactory(seller=seller, sku="MUG", name="Enamel mug"), WarehouseFactory(seller=seller), 5)

    order = place(seller, [("MUG", 2)], customer_email="ada@example.com")

    deadline = time.monotonic() + 45
    event = OutboxEvent.objects.get(topic="order.created", aggregate_id=str(order.pk))
    while time.monotonic() < deadline and event.dispatched_at is None:
        assert process.poll() is None, process.stdout.read().decode()
        time.sleep(0.2)
        event.refresh_from_db()
    assert event.dispatched_at is not None, "the worker did not relay the event within 45 s"
    assert event.handled == ["orders.confirmation_email", "orders.webhooks", "shipping.shipments_sync"]
    messages = list(mail_dir.glob("*.log"))
    assert len(messages) == 1
    text = messages[0].read_text()
    assert "To: ada@example.com" in text
    assert f"order #{order.number} received" in text and "Enamel mug" in text
