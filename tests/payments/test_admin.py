"""Payments in the admin: a seller's staff see only their seller's payments; capture and
refund actions go through the services and Stripe."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from orders.payments.models import Payment, PaymentState, Refund
from sellers.models import StaffRole
from tests.conftest import client_for
from tests.factories import MembershipFactory, ProductFactory, SellerFactory, WarehouseFactory, stocked
from tests.payments.conftest import authorize, place_paid

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:payments_payment_changelist")


def paid_shop(storefront, name: str, orders: int = 1):
    seller = SellerFactory(name=name)
    stocked(ProductFactory(seller=seller, sku="MUG", price=Money("10.00", "USD")), WarehouseFactory(seller=seller), 50)
    api = client_for(seller)
    for _ in range(orders):
        place_paid(api, [("MUG", 1)], authorize(storefront, seller, amount=1000))
    return seller


def login(client, seller, role=StaffRole.MANAGER):
    client.force_login(MembershipFactory(seller=seller, role=role).user)


def run_action(client, action: str, *payments):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [p.pk for p in payments], "index": 0}, follow=True
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_see_only_their_sellers_payments(client, sandbox, storefront):
    mine, theirs = paid_shop(storefront, "A"), paid_shop(storefront, "B")
    login(client, mine, StaffRole.VIEWER)
    their_payment = Payment.objects.get(seller=theirs)

    listing = client.get(CHANGELIST)
    detail = client.get(reverse("admin:payments_payment_change", args=[their_payment.pk]))

    assert listing.status_code == 200
    assert [p.seller_id for p in listing.context["cl"].result_list] == [mine.pk]
    assert detail.status_code == 302  # "doesn't exist", back to the index
    assert their_payment.stripe_payment_intent_id not in listing.content.decode()


def test_capture_then_refund_from_the_admin(client, sandbox, storefront):
    seller = paid_shop(storefront, "A")
    payment = Payment.objects.get(seller=seller)
    login(client, seller)

    captured = run_action(client, "capture_payments", payment)
    assert any("captured" in m for m in messages_of(captured))
    assert storefront.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status == "succeeded"

    refunded = run_action(client, "refund_payments", payment)
    assert any("refunded" in m for m in messages_of(refunded))
    payment.refresh_from_db()
    assert payment.status == PaymentState.REFUNDED
    refund = Refund.objects.get(payment=payment)
    assert (refund.reason, refund.actor_label.startswith("user")) == ("Refunded in the admin", True)

    page = client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    assert refund.stripe_refund_id in page.content.decode()


def test_staff_may_capture_but_not_refund(client, sandbox, storefront):
    seller = paid_shop(storefront, "A")
    payment = Payment.objects.get(seller=seller)
    login(client, seller, StaffRole.STAFF)

    page = client.get(CHANGELIST)
    actions = [choice[0] for choice in page.context["action_form"].fields["action"].choices]
    assert "capture_payments" in actions and "refund_payments" not in actions
    run_action(client, "refund_payments", payment)
    assert not Refund.objects.exists()


def test_the_changelist_query_count_does_not_grow_with_the_page(client, sandbox, storefront):
    seller = paid_shop(storefront, "A", orders=1)
    login(client, seller)
    with CaptureQueriesContext(connection) as one:
        client.get(CHANGELIST)
    for _ in range(3):
        place_paid(client_for(seller), [("MUG", 1)], authorize(storefront, seller, amount=1000))
    with CaptureQueriesContext(connection) as four:
        client.get(CHANGELIST)
    assert len(four) == len(one)
