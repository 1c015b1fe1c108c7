"""Retries never move money twice: every Stripe write carries a key derived from the
Waybill object, so a lost response, a crash between Stripe and the database or a
client's retry all end with one capture and one refund."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.actor import Actor
from orders.payments import gateway
from orders.payments.accounts import install_credentials
from orders.payments.models import Payment, PaymentState, Refund
from orders.payments.sandbox import Fault
from orders.payments.services import payment_capture
from orders.payments.services.sweep import payments_sweep
from tests.conftest import client_for
from tests.payments.conftest import authorize, place_paid, run_outbox, run_tasks, ship

pytestmark = pytest.mark.django_db
TEST = Actor.system("test")


@pytest.fixture
def captured_order(api, shop, sandbox, storefront, django_capture_on_commit_callbacks):
    intent_id = authorize(storefront, shop, amount=3000)
    order = place_paid(api, [("MUG", 3)], intent_id)
    ship(order["id"], shipment_id=11)
    run_outbox(django_capture_on_commit_callbacks, "shipment.shipped", 11)
    return order, intent_id


def test_a_lost_capture_response_is_retried_with_the_same_key(api, shop, sandbox, storefront):
    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    # Stripe captures, but its answer is lost: the library retries the request
    sandbox.faults.append(Fault("POST", r"/capture$", status=500, after_processing=True))

    payment_capture(payment_id=payment.pk, actor=TEST)

    captures = [r for r in sandbox.requests if r.path.endswith("/capture")]
    assert [(r.status, r.replayed) for r in captures] == [(200, False), (200, True)]
    assert captures[0].idempotency_key == captures[1].idempotency_key
    assert len(sandbox.events_of("payment_intent.succeeded")) == 1
    payment.refresh_from_db()
    assert (payment.status, payment.amount_captured.amount) == (PaymentState.CAPTURED, Decimal("10"))


def test_a_crash_after_stripe_captured_is_finished_by_the_next_run(api, shop, sandbox, storefront):
    intent_id = authorize(storefront, shop, amount=1000)
    order = place_paid(api, [("MUG", 1)], intent_id)
    payment = Payment.objects.get(order_id=order["id"])
    # The first run reached Stripe and died before writing anything.
    gateway.intent_capture(
        intent_id, account=install_credentials(), amount=1000, idempotency_key=f"waybill-capture-{payment.pk}-1000"
    )

    payment_capture(payment_id=payment.pk, actor=TEST)

    assert len(sandbox.events_of("payment_intent.succeeded")) == 1
    assert [r.replayed for r in sandbox.requests if r.path.endswith("/capture")] == [False, True]
    assert Payment.objects.get(pk=payment.pk).status == PaymentState.CAPTURED


def test_a_refund_retried_with_its_key_refunds_once(api, captured_order, sandbox):
    order, _ = captured_order
    url = f"/api/v1/orders/{order['id']}/refunds/"

    first = api.post(url, {"amount": "4.00", "reason": "late"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = api.post(url, {"amount": "4.00", "reason": "late"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    other = api.post(url, {"amount": "5.00", "reason": "late"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1")

    assert (first.status_code, again.status_code, again["Idempotent-Replayed"]) == (201, 201, "true")
    assert again.json() == first.json()
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert len(sandbox.events_of("refund.created")) == 1
    assert Refund.objects.count() == 1


def test_a_refund_while_stripe_is_down_is_pending_then_sent_by_the_sweep(
    api, captured_order, sandbox, settings, django_capture_on_commit_callbacks
):
    order, _ = captured_order
    for _ in range(settings.STRIPE_MAX_NETWORK_RETRIES + 1):
        sandbox.faults.append(Fault("POST", r"^/v1/refunds$", status=503))

    response = api.post(f"/api/v1/orders/{order['id']}/refunds/", {"amount": "6.00"}, format="json")

    assert (response.status_code, response.json()["status"]) == (202, "pending")
    refund = Refund.objects.get()
    assert sandbox.events_of("refund.created") == []
    # A minute later the sweep sends it again, with the same key
    Refund.objects.filter(pk=refund.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert payments_sweep()["refunds"] == 1
    run_tasks(callbacks)

    refund.refresh_from_db()
    assert (refund.status, refund.stripe_refund_id.startswith("re_")) == ("succeeded", True)
    attempts = [r for r in sandbox.requests if r.path == "/v1/refunds"]
    assert {r.idempotency_key for r in attempts} == {f"waybill-refund-{refund.pk}"}
    assert len(sandbox.events_of("refund.created")) == 1


def test_refusals_are_clear_errors(api, captured_order, shop, sandbox, storefront, other_seller):
    order, _ = captured_order
    url = f"/api/v1/orders/{order['id']}/refunds/"

    too_much = api.post(url, {"amount": "30.01"}, format="json")
    assert (too_much.status_code, too_much.json()["code"]) == (409, "refund_exceeds_captured")
    assert too_much.json()["details"]["refundable"] == "30.00"

    stranger = client_for(other_seller).post(url, {"amount": "1.00"}, format="json")
    assert stranger.status_code == 404
    read_only = client_for(shop, scopes=["orders:read"]).post(url, {"amount": "1.00"}, format="json")
    assert read_only.status_code == 403
    assert Refund.objects.count() == 0
