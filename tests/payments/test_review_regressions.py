"""Money that must go back when a capture lands after the order changed, payments that
stay on the Stripe account they were made on, and bad input that must not be a 500."""

import contextlib
import threading
from decimal import Decimal

import pytest
from django.db import connection

from core.actor import Actor
from orders.models import Order
from orders.payments.accounts import stripe_account_set
from orders.payments.exceptions import PaymentProviderRefused, PaymentProviderUnavailable
from orders.payments.models import Payment, PaymentState, Refund
from orders.payments.sandbox.server import Fault
from orders.payments.services import payment_capture
from orders.payments.services.refunds import refund_submit
from tests.conftest import client_for
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, stocked
from tests.payments.conftest import WEBHOOK_URL, authorize, place_paid, run_outbox

STAFF = Actor.system("test")


def lose_the_capture_answer(sandbox, settings):
    """Stripe captures, but its answer never reaches Waybill."""
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    sandbox.faults.append(Fault("POST", r"/capture$", status=500, after_processing=True))


@pytest.mark.django_db
def test_an_order_cancelled_while_its_capture_was_in_flight_is_refunded(
    api, shop, sandbox, storefront, settings, django_capture_on_commit_callbacks
):
    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    lose_the_capture_answer(sandbox, settings)
    with pytest.raises(PaymentProviderUnavailable):
        payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=STAFF)

    assert api.post(f"/api/v1/orders/{order['id']}/cancel/", {}, format="json").status_code == 200
    run_outbox(django_capture_on_commit_callbacks, "order.cancelled", order["id"])  # the void finds it captured

    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.amount.amount) == ("pending", Decimal("10"))
    refund_submit(refund_id=refund.pk, actor=STAFF)  # the task queued when the capture was recorded
    payment.refresh_from_db()
    assert payment.status == PaymentState.REFUNDED
    assert Order.objects.get(pk=order["id"]).payment_status == "refunded"


@pytest.mark.django_db
def test_a_line_cancelled_while_the_capture_was_in_flight_is_refunded(
    api, shop, sandbox, storefront, settings, django_capture_on_commit_callbacks
):
    intent_id = authorize(storefront, shop, amount=3500)
    order = place_paid(api, [("MUG", 1), ("PLATE", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    lose_the_capture_answer(sandbox, settings)
    with pytest.raises(PaymentProviderUnavailable):
        payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=STAFF)
    plate = next(line for line in order["lines"] if line["sku"] == "PLATE")
    assert api.post(f"/api/v1/orders/{order['id']}/lines/{plate['id']}/cancel/", {}, format="json").status_code == 200
    run_outbox(django_capture_on_commit_callbacks, "order.updated", order["id"])

    payment_capture(payment_id=payment.pk, actor=STAFF)  # the sweep's retry learns Stripe took 35.00

    payment.refresh_from_db()
    assert payment.amount_captured.amount == Decimal("35")
    refund = Refund.objects.get(payment=payment)
    assert (refund.status, refund.amount.amount) == ("pending", Decimal("25"))
    assert refund_submit(refund_id=refund.pk, actor=STAFF).status == "succeeded"


@pytest.mark.django_db
def test_payments_stay_on_the_account_they_were_made_on(api, shop, sandbox, storefront):
    intent_id = authorize(storefront, shop, amount=1000)  # on the install's account
    order = place_paid(api, [("MUG", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=STAFF)

    stripe_account_set(seller=shop, secret_key="sk_test_sellers_new_account", webhook_secret="whsec_new")
    response = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "10.00"}, format="json")

    assert response.status_code == 201 and Refund.objects.get().status == "succeeded"
    assert not Payment.objects.get(pk=payment.pk).on_own_account


@pytest.mark.django_db
def test_a_signed_event_with_an_impossible_date_or_id_is_a_400(client, sandbox):
    for event in (
        {"id": "evt_x", "type": "charge.refunded", "created": 10**15, "data": {"object": {}}},
        {"id": "evt_" + "x" * 300, "type": "charge.refunded", "created": 1, "data": {"object": {}}},
        {"id": "evt_y", "type": "charge.refunded", "created": 1, "data": []},
    ):
        body, header = sandbox.signed(event)
        response = client.post(WEBHOOK_URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
        assert response.status_code == 400, response.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_idempotency_key_on_two_orders_at_once_is_a_4xx_not_a_500(sandbox, storefront, monkeypatch):
    from orders.payments.services import refunds as refunds_module

    seller = SellerFactory()
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    api = client_for(seller)
    api.raise_request_exception = False
    orders = []
    for _ in range(2):
        placed = place_paid(api, [("MUG", 1)], authorize(storefront, seller, amount=1000))
        payment_capture(payment_id=Payment.objects.get(order_id=placed["id"]).pk, actor=STAFF)
        orders.append(placed)
    barrier = threading.Barrier(2, timeout=10)
    real = refunds_module.refundable

    def refundable(payment):  # both requests past the "is the key known?" check
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real(payment)

    monkeypatch.setattr(refunds_module, "refundable", refundable)
    statuses = []

    def post(order_id):
        try:
            response = api.post(
                f"/api/v1/orders/{order_id}/refunds/", {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(placed["id"],)) for placed in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(statuses)[0] == 201 and sorted(statuses)[1] in (409, 422)


@pytest.mark.django_db
def test_documents_match_the_money_when_a_line_is_refunded_before_the_invoice(
    api, shop, sandbox, storefront, django_capture_on_commit_callbacks
):
    from orders.invoicing.models import CreditNote, Invoice
    from orders.invoicing.services import invoice_issue_when_due
    from sellers.models import InvoiceTrigger

    intent_id = authorize(storefront, shop, amount=4500)
    order = place_paid(api, [("MUG", 2), ("PLATE", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=STAFF)  # by hand: 45.00
    mug = next(line for line in order["lines"] if line["sku"] == "MUG")
    api.post(f"/api/v1/orders/{order['id']}/lines/{mug['id']}/cancel/", {"quantity": 1}, format="json")
    run_outbox(django_capture_on_commit_callbacks, "order.updated", order["id"])  # refunds the mug: 10.00
    run_outbox(django_capture_on_commit_callbacks, "payment.refunded", payment.pk)
    assert not CreditNote.objects.exists()  # no invoice yet: nothing to credit

    invoice_issue_when_due(seller_id=shop.pk, order_id=order["id"], occasion=InvoiceTrigger.SHIPPED, actor=STAFF)

    payment.refresh_from_db()
    kept = payment.amount_captured - payment.amount_refunded
    assert Invoice.objects.get(order_id=order["id"]).total == kept  # 35.00 invoiced, 35.00 kept


@pytest.mark.django_db
def test_a_dashboard_refund_is_counted_while_one_of_ours_is_still_pending(
    api, client, shop, sandbox, storefront, settings
):
    from tests.payments.conftest import deliver

    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, seller_id=shop.pk, actor=STAFF)
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    sandbox.faults.append(Fault("POST", r"^/v1/refunds$", status=500))
    assert api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "10.00"}, format="json").status_code == 202
    storefront.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1000})  # in the dashboard
    (event,) = sandbox.events_of("charge.refunded")

    assert deliver(client, sandbox, event).json()["outcome"] == "processed"

    payment.refresh_from_db()
    assert payment.amount_refunded.amount == Decimal("10") and payment.status == PaymentState.REFUNDED
    ours = Refund.objects.get(payment=payment, origin="waybill")
    with pytest.raises(PaymentProviderRefused):  # Stripe refuses a second refund of the whole charge
        refund_submit(refund_id=ours.pk, actor=STAFF)
    ours.refresh_from_db()
    assert ours.status == "failed"
