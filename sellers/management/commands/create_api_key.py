from django.core.management.base import BaseCommand, CommandError

from sellers.models import ApiScope, Seller
from sellers.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a seller and print it once. Only its digest is stored."

    def add_arguments(self, parser):
        parser.add_argument("--seller", required=True, help="The seller's slug.")
        parser.add_argument("--name", default="Storefront", help="A label to tell keys apart.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=ApiScope.values,
            help="Repeat to grant several scopes; default: a storefront's (products:read, orders:read, orders:write).",
        )

    def handle(self, *args, seller, name, scope, **options):
        try:
            seller_obj = Seller.objects.get(slug=seller)
        except Seller.DoesNotExist as exc:
            raise CommandError(f"No seller with slug {seller!r}.") from exc
        issued = api_key_create(seller=seller_obj, name=name, scopes=scope)
        self.stderr.write(f"API key {issued.api_key.prefix} for {seller_obj.name} (shown once, store it now):")
        self.stdout.write(issued.raw_key)
