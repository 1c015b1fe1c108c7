"""One order through every app, as the worker would run it: placed over the API with a
Stripe authorization and computed tax, backordered in part, filled when stock arrives,
picked, packed and shipped in two shipments, captured at the first, invoiced, refunded
in part with a credit note. The real stripe library talks to the local Stripe server."""

from decimal import Decimal
from functools import partial

import pytest
import stripe
from djmoney.money import Money
from pypdf import PdfReader

from core.actor import Actor
from core.models import OutboxEvent
from core.outbox import outbox_dispatch
from inventory.models import BackorderPolicy
from inventory.services import stock_receive
from orders.finance.models import TaxRate
from orders.invoicing.models import CreditNote, Invoice
from orders.models import EventType, Order
from orders.payments.models import Payment
from orders.payments.sandbox import StripeSandbox
from orders.status import FulfillmentStatus, Lifecycle, PaymentStatus
from shipping.models import Shipment
from shipping.services.labels import shipment_label_buy
from shipping.services.shipments import shipment_ship
from tests.factories import ProductFactory, WarehouseFactory, order_body, stocked
from tests.shipping.conftest import packed, table_carrier  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db
STAFF = Actor.system("warehouse")


@pytest.fixture
def stripe_sandbox(settings):
    server = StripeSandbox(api_key=settings.STRIPE_API_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET)
    settings.STRIPE_API_BASE = server.start()
    yield server
    server.stop()


def run_worker(django_capture_on_commit_callbacks) -> None:
    """Dispatch every pending outbox event, and run the tasks handlers queue, until
    nothing is left: what the relay task and the worker do after each commit."""
    for _ in range(20):
        pending = list(OutboxEvent.objects.filter(dispatched_at=None).order_by("pk").values_list("pk", flat=True))
        if not pending:
            return
        for event_id in pending:
            with django_capture_on_commit_callbacks(execute=False) as callbacks:
                outbox_dispatch(event_id=event_id)
            for callback in callbacks:
                if isinstance(callback, partial) and getattr(callback.func, "__name__", "") == "delay":
                    callback.func.__self__.apply(kwargs=callback.keywords).get(propagate=True)
    raise AssertionError("the outbox did not settle")


def test_an_order_from_checkout_to_credit_note(
    api,
    seller,
    settings,
    stripe_sandbox,
    table_carrier,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    seller.invoice_trigger = "shipped"
    seller.save()
    TaxRate.objects.create(
        seller=seller, country="US", region="MA", tax_class="standard", rate=Decimal("0.0625"), name="MA sales tax"
    )
    east = WarehouseFactory(seller=seller, code="EAST", postal_code="07102")
    west = WarehouseFactory(seller=seller, code="WEST", city="Reno", postal_code="89501")
    lamp = ProductFactory(
        seller=seller, sku="LAMP", price=Money("40.00", "USD"), barcode="100", backorder_policy=BackorderPolicy.ALLOW
    )
    shade = ProductFactory(seller=seller, sku="SHADE", price=Money("12.50", "USD"), barcode="200")
    stocked(lamp, east, 1)
    stocked(shade, west, 5)

    # Checkout: 2 lamps + 2 shades to Boston, MA. 105.00 of goods, 6.5625 % → 6.56 tax.
    body = order_body(
        [("LAMP", 2), ("SHADE", 2)],
        payment_intent="",
        shipping_address={
            "name": "Ada Lovelace",
            "line1": "12 Analytical Way",
            "city": "Boston",
            "region": "MA",
            "postal_code": "02110",
            "country": "US",
        },
    )
    storefront = stripe.StripeClient(settings.STRIPE_API_KEY, base_addresses={"api": stripe_sandbox.url})
    intent = storefront.v1.payment_intents.create(
        params={
            "amount": 11156,
            "currency": "usd",
            "capture_method": "manual",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": {"waybill_seller": seller.slug},
        }
    )
    body["payment_intent"] = intent.id
    created = api.post("/api/v1/orders/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["tax_total"]["amount"], data["total"]["amount"]) == ("6.56", "111.56")
    assert [line["quantity_backordered"] for line in data["lines"]] == [1, 0]
    assert data["payment_status"] == PaymentStatus.AUTHORIZED and data["fulfillment_status"] == "backordered"
    order = Order.objects.get(pk=data["id"])
    run_worker(django_capture_on_commit_callbacks)

    # The missing lamp arrives in EAST; the worker fills the backorder.
    stock_receive(product=lamp, warehouse=east, quantity=3, actor=STAFF)
    run_worker(django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.ALLOCATED
    shipments = {s.warehouse.code: s for s in Shipment.objects.filter(order=order).select_related("warehouse")}
    assert {code: sum(line.quantity for line in s.lines.all()) for code, s in shipments.items()} == {
        "EAST": 2,
        "WEST": 2,
    }

    # EAST ships first: capture for the whole order, invoice issued, customer emailed.
    packed(shipments["EAST"])
    shipment_label_buy(seller_id=seller.pk, shipment_id=shipments["EAST"].pk, actor=STAFF, carrier_id=table_carrier.pk)
    shipment_ship(seller_id=seller.pk, shipment_id=shipments["EAST"].pk, actor=STAFF)
    run_worker(django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.fulfillment_status == FulfillmentStatus.PARTIALLY_SHIPPED
    assert order.payment_status == PaymentStatus.PAID
    payment = Payment.objects.get(order=order)
    assert payment.amount_captured == Money("111.56", "USD")
    assert storefront.v1.payment_intents.retrieve(intent.id).amount_received == 11156
    invoice = Invoice.objects.get(order=order)
    assert invoice.total == Money("111.56", "USD") and invoice.tax_total == Money("6.56", "USD")
    pdf = api.get(f"/api/v1/invoices/{invoice.pk}/pdf/")
    text = "".join(page.extract_text() for page in PdfReader(__import__("io").BytesIO(pdf.content)).pages)
    assert invoice.display_number in text and "111.56" in text and "USD" in text

    packed(shipments["WEST"])
    shipment_label_buy(seller_id=seller.pk, shipment_id=shipments["WEST"].pk, actor=STAFF, carrier_id=table_carrier.pk)
    shipment_ship(seller_id=seller.pk, shipment_id=shipments["WEST"].pk, actor=STAFF)
    run_worker(django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert (order.lifecycle, order.fulfillment_status) == (Lifecycle.COMPLETED, FulfillmentStatus.SHIPPED)
    assert Invoice.objects.filter(order=order).count() == 1

    # A shade came broken: refund it through the API; a credit note follows.
    refund = api.post(
        f"/api/v1/orders/{order.pk}/refunds/", {"amount": "13.28", "reason": "broken shade"}, format="json"
    )
    assert refund.status_code == 201, refund.json()
    run_worker(django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    note = CreditNote.objects.get(invoice=invoice)
    assert note.total == Money("13.28", "USD")

    types = set(order.events.values_list("type", flat=True))
    assert {
        EventType.PLACED,
        EventType.PAYMENT_AUTHORIZED,
        EventType.BACKORDERED,
        EventType.BACKORDER_ALLOCATED,
        EventType.SHIPMENT_SHIPPED,
        EventType.PAYMENT_CAPTURED,
        EventType.INVOICE_ISSUED,
        EventType.PAYMENT_REFUNDED,
        EventType.CREDIT_NOTE_ISSUED,
    } <= types
