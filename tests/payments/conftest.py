"""A local Stripe for every payments test: the real ``stripe`` library over real HTTP
against the sandbox on an ephemeral loopback port, Waybill's settings pointed at it."""

from functools import partial

import pytest
import stripe
from djmoney.money import Money

from core.models import OutboxEvent
from core.outbox import outbox_dispatch, outbox_record
from orders.payments.sandbox import StripeSandbox
from tests.factories import ProductFactory, WarehouseFactory, order_body, stocked

WEBHOOK_URL = "/api/v1/stripe/webhook/"


@pytest.fixture
def sandbox(settings):
    server = StripeSandbox(api_key=settings.STRIPE_API_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET)
    settings.STRIPE_API_BASE = server.start()
    yield server
    server.stop()


@pytest.fixture
def storefront(sandbox, settings):
    """What a storefront (or the Stripe dashboard) does with the same account."""
    return stripe.StripeClient(settings.STRIPE_API_KEY, base_addresses={"api": sandbox.url})


@pytest.fixture
def shop(seller):
    warehouse = WarehouseFactory(seller=seller)
    for sku, price in (("MUG", "10.00"), ("PLATE", "25.00")):
        stocked(ProductFactory(seller=seller, sku=sku, price=Money(price, "USD")), warehouse, 100)
    return seller


def authorize(storefront, seller, *, amount: int, currency: str = "usd", card: str = "pm_card_visa", **metadata):
    """A PaymentIntent with manual capture, confirmed and authorized, as a storefront
    makes one before placing the order."""
    intent = storefront.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "capture_method": "manual",
            "confirm": True,
            "payment_method": card,
            "metadata": {"waybill_seller": seller.slug, **metadata},
        }
    )
    return intent.id


def place_paid(api, lines, intent_id: str, **overrides):
    response = api.post("/api/v1/orders/", order_body(lines, payment_intent=intent_id, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def deliver(client, sandbox, event: dict, **signing):
    """Post ``event`` to the webhook endpoint as Stripe would, signed by the sandbox."""
    body, header = sandbox.signed(event, **signing)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def run_outbox(django_capture_on_commit_callbacks, topic: str, aggregate_id) -> None:
    """Dispatch the topic's outbox events as the relay task would, then run the Celery
    tasks the handlers enqueued after commit, in this process (``Task.apply``)."""
    for event in OutboxEvent.objects.filter(topic=topic, aggregate_id=str(aggregate_id), dispatched_at=None):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            outbox_dispatch(event_id=event.pk)
        run_tasks(callbacks)


def run_tasks(callbacks) -> None:
    for callback in callbacks:
        if isinstance(callback, partial) and getattr(callback.func, "__name__", "") == "delay":
            result = callback.func.__self__.apply(kwargs=callback.keywords)
            result.get(propagate=True)


def ship(order_id: int, shipment_id: int = 1) -> None:
    """What the shipping app records when a shipment leaves."""
    outbox_record(
        topic="shipment.shipped",
        seller_id=None,
        aggregate_type="shipment",
        aggregate_id=shipment_id,
        payload={"order_id": order_id, "shipment_id": shipment_id, "lines": []},
    )
