"""A real Celery worker process on the configured broker (Redis in CI) relays an
order's outbox event after commit and the customer gets the confirmation email."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from core.models import OutboxEvent
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, place, stocked

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "DEBUG": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield mail_dir, process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
    assert event.handled == ["orders.confirmation_email", "orders.webhooks"]
    messages = list(mail_dir.glob("*.log"))
    assert len(messages) == 1
    text = messages[0].read_text()
    assert "To: ada@example.com" in text
    assert f"order #{order.number} received" in text and "Enamel mug" in text
