"""Re-encrypt every stored Stripe credential under the newest of WAYBILL_ENCRYPTION_KEYS,
so an old key can then be dropped from the list."""

from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import secret_reencrypt
from orders.payments.models import StripeAccount


class Command(BaseCommand):
    help = "Re-encrypt stored Stripe credentials with the newest WAYBILL_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for account in StripeAccount.objects.select_for_update().order_by("pk"):
                account.secret_key_encrypted = secret_reencrypt(account.secret_key_encrypted)
                account.webhook_secret_encrypted = secret_reencrypt(account.webhook_secret_encrypted)
                account.save(update_fields=["secret_key_encrypted", "webhook_secret_encrypted", "updated_at"])
                count += 1
        self.stdout.write(f"Re-encrypted {count} Stripe account(s) with the newest key.")
