"""Through a real Celery worker on the configured broker: a shipment's outbox event
issues the invoice, whose own event then renders and stores its PDF."""

import time

import pytest
from django.db import transaction

from core.outbox import outbox_record
from orders.invoicing.models import Invoice, InvoicePdf
from orders.models import EventType, OrderEvent
from sellers.models import InvoiceTrigger
from tests.celery_worker import worker_start, worker_stop
from tests.invoicing.conftest import make_shop, placed

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    process = worker_start(mail_dir=tmp_path / "mail")
    yield process
    worker_stop(process)


def test_the_worker_issues_the_invoice_on_shipment_and_stores_its_pdf(worker):
    seller = make_shop(invoice_trigger=InvoiceTrigger.SHIPPED)
    order = placed(seller, [("MUG", 2)])
    line = order.lines.get()

    with transaction.atomic():
        outbox_record(
            topic="shipment.shipped",
            seller_id=seller.pk,
            aggregate_type="shipment",
            aggregate_id=1,
            payload={"order_id": order.pk, "shipment_id": 1, "lines": [{"line_id": line.pk, "quantity": 2}]},
        )

    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and not InvoicePdf.objects.filter(invoice__order=order).exists():
        assert worker.poll() is None, worker.stdout.read().decode()
        time.sleep(0.2)
    invoice = Invoice.objects.get(order=order)
    assert (invoice.trigger, invoice.number, invoice.actor_label) == ("shipped", 1, "invoicing")
    pdf = InvoicePdf.objects.filter(invoice=invoice).first()
    assert pdf is not None, "the worker did not store the invoice PDF within 45 s"
    assert bytes(pdf.content).startswith(b"%PDF-")
    assert OrderEvent.objects.filter(order=order, type=EventType.INVOICE_ISSUED).count() == 1
