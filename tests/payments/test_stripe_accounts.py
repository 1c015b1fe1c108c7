"""A seller's own Stripe account: its credentials stored encrypted, used for every call
about its payments, and its own webhook endpoint, which can touch no other seller."""

import pytest
from django.db import connection
from django.urls import reverse

from core.exceptions import ValidationFailed
from orders.models import Order, OrderHold
from orders.payments.accounts import stripe_account_set, stripe_credentials
from orders.payments.models import StripeAccount
from sellers.models import StaffRole
from tests.factories import MembershipFactory, SellerFactory, order_body
from tests.payments.conftest import authorize, place_paid

pytestmark = pytest.mark.django_db
SELLER_WEBHOOK = "/api/v1/stripe/webhook/{slug}/"


@pytest.fixture
def own_account(shop, sandbox, storefront, settings):
    """The shop brings its own Stripe account (the sandbox's); the install's is broken,
    so anything that works went through the seller's credentials."""
    stripe_account_set(seller=shop, secret_key=sandbox.api_key, webhook_secret=sandbox.webhook_secret)
    settings.STRIPE_API_KEY = "sk_test_not_the_install_key"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_not_the_install_secret"
    return shop


def test_credentials_are_stored_encrypted_and_read_back(seller):
    stripe_account_set(seller=seller, secret_key="sk_test_abcdef123456", webhook_secret="whsec_topsecret")

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_key_encrypted, webhook_secret_encrypted FROM payments_stripeaccount")
        stored = " ".join(cursor.fetchone())
    assert "sk_test_abcdef123456" not in stored and "topsecret" not in stored
    credentials = stripe_credentials(seller_id=seller.pk)
    assert (credentials.api_key, credentials.webhook_secret, credentials.own) == (
        "sk_test_abcdef123456",
        "whsec_topsecret",
        True,
    )
    assert "abcdef" not in repr(credentials)
    assert StripeAccount.objects.get(seller=seller).key_hint == "3456"


def test_what_is_not_a_stripe_credential_is_refused(seller):
    with pytest.raises(ValidationFailed) as refused:
        stripe_account_set(seller=seller, secret_key="pk_live_public", webhook_secret="secret")
    assert set(refused.value.details) == {"secret_key", "webhook_secret"}
    assert not StripeAccount.objects.exists()


def test_a_sellers_own_account_verifies_and_captures_its_payments(api, own_account, sandbox, storefront):
    intent_id = authorize(storefront, own_account, amount=2000)

    order = place_paid(api, [("MUG", 2)], intent_id)

    assert order["payment_status"] == "authorized"


def test_without_an_own_account_the_install_account_is_used(api, shop, sandbox, storefront, settings):
    intent_id = authorize(storefront, shop, amount=2000)
    settings.STRIPE_API_KEY = "sk_test_not_the_install_key"

    response = api.post("/api/v1/orders/", order_body([("MUG", 2)], payment_intent=intent_id), format="json")

    assert response.status_code == 503 and not Order.objects.exists()


def test_the_sellers_endpoint_verifies_with_its_own_secret(client, api, own_account, sandbox, storefront):
    intent_id = authorize(storefront, own_account, amount=2000)
    order = place_paid(api, [("MUG", 2)], intent_id)
    sandbox.state.dispute_create(payment_intent=intent_id, reason="fraudulent")
    (event,) = sandbox.events_of("charge.dispute.created")
    body, header = sandbox.signed(event)

    at_install = client.post(
        "/api/v1/stripe/webhook/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    at_seller = client.post(
        SELLER_WEBHOOK.format(slug=own_account.slug),
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )

    assert at_install.status_code == 400
    assert at_seller.status_code == 200 and at_seller.json()["outcome"] == "processed"
    assert Order.objects.get(pk=order["id"]).lifecycle == "on_hold"


def test_a_seller_cannot_touch_another_sellers_payment_with_its_own_secret(
    client, api, shop, sandbox, storefront, settings
):
    # The shop pays through the install's account; a second seller signs with its own.
    intent_id = authorize(storefront, shop, amount=2000)
    order = place_paid(api, [("MUG", 2)], intent_id)
    other = SellerFactory(slug="mallory")
    stripe_account_set(seller=other, secret_key="sk_test_mallory", webhook_secret=sandbox.webhook_secret)
    sandbox.state.dispute_create(payment_intent=intent_id, reason="fraudulent")
    (event,) = sandbox.events_of("charge.dispute.created")
    body, header = sandbox.signed(event)

    response = client.post(
        SELLER_WEBHOOK.format(slug="mallory"), data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    assert response.json()["outcome"] == "unknown_payment"
    assert Order.objects.get(pk=order["id"]).lifecycle == "confirmed"
    assert not OrderHold.objects.exists()


def test_a_seller_without_its_own_account_has_no_endpoint(client, seller):
    response = client.post(SELLER_WEBHOOK.format(slug=seller.slug), data=b"{}", content_type="application/json")

    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_managers_set_the_account_in_the_admin_and_never_see_the_secret_again(client, seller):
    client.force_login(MembershipFactory(seller=seller, role=StaffRole.MANAGER).user)

    added = client.post(
        reverse("admin:payments_stripeaccount_add"),
        {"seller": seller.pk, "secret_key": "sk_test_admin_key_9876", "webhook_secret": "whsec_admin"},
    )

    assert added.status_code == 302
    account = StripeAccount.objects.get(seller=seller)
    assert stripe_credentials(seller_id=seller.pk).api_key == "sk_test_admin_key_9876"
    page = client.get(reverse("admin:payments_stripeaccount_change", args=[account.pk])).content.decode()
    assert "sk_test_admin_key_9876" not in page and "whsec_admin" not in page and "9876" in page
    # Saving without typing the secrets keeps them.
    kept = client.post(reverse("admin:payments_stripeaccount_change", args=[account.pk]), {"seller": seller.pk})
    assert kept.status_code == 302 and stripe_credentials(seller_id=seller.pk).webhook_secret == "whsec_admin"
    client.force_login(MembershipFactory(seller=seller, role=StaffRole.STAFF).user)
    assert client.get(reverse("admin:payments_stripeaccount_changelist")).status_code == 403


def test_keys_rotate_without_losing_a_credential(seller, settings):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.WAYBILL_ENCRYPTION_KEYS = [old]
    stripe_account_set(seller=seller, secret_key="sk_test_rotating", webhook_secret="whsec_rotating")
    settings.WAYBILL_ENCRYPTION_KEYS = [new, old]  # the new key in front, the old one still readable

    call_command("secrets_reencrypt", stdout=StringIO())
    settings.WAYBILL_ENCRYPTION_KEYS = [new]  # the old key dropped

    assert stripe_credentials(seller_id=seller.pk).api_key == "sk_test_rotating"
