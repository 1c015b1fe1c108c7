"""Whose Stripe account a call uses: the seller's own (encrypted in the database) or
the install's (from the environment)."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from core.crypto import secret_decrypt, secret_encrypt
from core.exceptions import ValidationFailed
from orders.payments.exceptions import PaymentProviderUnavailable
from orders.payments.models import StripeAccount
from sellers.models import Seller


@dataclass(frozen=True)
class StripeCredentials:
    api_key: str
    webhook_secret: str
    own: bool  # the seller's own account, not the install's

    def __repr__(self):  # never print the secrets
        return f"StripeCredentials(own={self.own}, key=…{self.api_key[-4:]})"


def install_credentials() -> StripeCredentials:
    return StripeCredentials(api_key=settings.STRIPE_API_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET, own=False)


def stripe_credentials(*, seller_id: int) -> StripeCredentials:
    account = StripeAccount.objects.filter(seller_id=seller_id).first()
    if account is None:
        return install_credentials()
    return StripeCredentials(
        api_key=secret_decrypt(account.secret_key_encrypted),
        webhook_secret=secret_decrypt(account.webhook_secret_encrypted),
        own=True,
    )


def payment_credentials(payment) -> StripeCredentials:
    """The account a payment was made on, whatever the seller uses today: a payment
    authorized on the install's account is captured and refunded there."""
    if not payment.on_own_account:
        return install_credentials()
    credentials = stripe_credentials(seller_id=payment.seller_id)
    if not credentials.own:
        raise PaymentProviderUnavailable(
            "The seller's own Stripe account, where this payment was made, has been removed.",
            details={"payment_id": payment.pk},
        )
    return credentials


def stripe_account_set(*, seller: Seller, secret_key: str, webhook_secret: str) -> StripeAccount:
    """Store (or replace) a seller's Stripe credentials, encrypted."""
    errors = {}
    if not secret_key.startswith(("sk_", "rk_")):
        errors["secret_key"] = ["A Stripe secret or restricted key starts with sk_ or rk_."]
    if not webhook_secret.startswith("whsec_"):
        errors["webhook_secret"] = ["A Stripe webhook signing secret starts with whsec_."]
    if errors:
        raise ValidationFailed(details=errors)
    with transaction.atomic():
        account, _ = StripeAccount.objects.update_or_create(
            seller=seller,
            defaults={
                "secret_key_encrypted": secret_encrypt(secret_key),
                "webhook_secret_encrypted": secret_encrypt(webhook_secret),
                "key_hint": secret_key[-4:],
            },
        )
    return account
