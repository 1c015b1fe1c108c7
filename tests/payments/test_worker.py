"""End to end over real processes and real HTTP: a real Celery worker voids a cancelled
order's authorization at the local Stripe, whose signed webhooks reach the live web
server; the payment is voided once whichever arrives first."""

import time

import pytest
import stripe

from orders.models import EventType, Order, OrderEvent
from orders.payments.models import Payment, PaymentState, StripeEvent
from orders.payments.sandbox import StripeSandbox
from tests.celery_worker import worker_start, worker_stop
from tests.conftest import client_for
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, stocked
from tests.payments.conftest import authorize, place_paid

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stripe_live(settings, live_server):
    server = StripeSandbox(
        api_key=settings.STRIPE_API_KEY,
        webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
        webhook_urls=[f"{live_server.url}/api/v1/stripe/webhook/"],
    )
    settings.STRIPE_API_BASE = server.start()
    yield server
    server.stop()


@pytest.fixture
def worker(stripe_live, tmp_path):
    process = worker_start(mail_dir=tmp_path, extra_env={"STRIPE_API_BASE": stripe_live.url})
    yield process
    worker_stop(process)


def wait_until(condition, process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert process.poll() is None, process.stdout.read().decode()
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {list(Payment.objects.values('status', 'void_requested_at'))}")


def test_a_real_worker_voids_a_cancelled_orders_payment(stripe_live, worker, settings):
    seller = SellerFactory()
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    api = client_for(seller)
    storefront = stripe.StripeClient(settings.STRIPE_API_KEY, base_addresses={"api": stripe_live.url})
    intent_id = authorize(storefront, seller, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)

    assert api.post(f"/api/v1/orders/{order['id']}/cancel/", {}, format="json").status_code == 200

    wait_until(lambda: Payment.objects.filter(status=PaymentState.VOIDED).exists(), worker)
    assert storefront.v1.payment_intents.retrieve(intent_id).status == "canceled"
    # The cancel's webhook came back over HTTP, verified and applied, and changed nothing more.
    wait_until(
        lambda: StripeEvent.objects.filter(type="payment_intent.canceled", processed_at__isnull=False).exists(), worker
    )
    assert all(d.status == 200 for d in stripe_live.deliveries)
    assert Order.objects.get(pk=order["id"]).payment_status == "voided"
    assert OrderEvent.objects.filter(order_id=order["id"], type=EventType.PAYMENT_VOIDED).count() == 1
