import os

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from inventory.models import Product, Stock, StockLedgerEntry, Warehouse
from orders.demo.seed import ADMIN_USERNAME, SeedOptions, SeedResult, seed_demo
from orders.models import Order, OrderEvent, OrderLine

DEFAULT_PASSWORD = "waybill-demo"


class Command(BaseCommand):
    help = (
        "Load the demo: two sellers with warehouses, products, stock, a year of order "
        "history and some open orders, plus an admin and a manager per seller. "
        "Safe to run again: sellers that exist are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders-per-day",
            type=float,
            default=SeedOptions.orders_per_day,
            help="Orders per seller on an ordinary day (default %(default)s: about 15,500 orders in a year). "
            "Lower it for a quick seed, e.g. 2 in tests.",
        )
        parser.add_argument("--days", type=int, default=SeedOptions.days, help="Days of history (default %(default)s).")
        parser.add_argument(
            "--open-orders",
            type=int,
            default=SeedOptions.open_orders,
            help="Open orders per seller placed today through the order service (default %(default)s).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=SeedOptions.seed,
            help="Random seed; same seed, same demo (default %(default)s).",
        )

    def handle(self, *args, orders_per_day, days, open_orders, seed, **options):
        if orders_per_day <= 0 or days < 1 or open_orders < 0:
            raise CommandError("--orders-per-day and --days must be positive and --open-orders not negative.")
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        self.stdout.write("Seeding the Waybill demo…")
        result = seed_demo(
            options=SeedOptions(
                orders_per_day=orders_per_day, days=days, open_orders=open_orders, seed=seed, password=password
            ),
            log=self.stdout.write,
        )
        self._report(result, password)

    def _report(self, result: SeedResult, password: str) -> None:
        host = os.environ.get("HOST", "127.0.0.1")
        base = f"http://{host}:{os.environ.get('PORT', '8000')}"
        write, bold = self.stdout.write, self.style.MIGRATE_HEADING
        write("")
        write(bold(f"Waybill demo ready ({result.seconds:.1f} s)"))
        write(f"  Admin     {base}/admin/")
        write(f"  API docs  {base}/api/docs/")
        write(f"  Logins    {ADMIN_USERNAME} (superuser, every seller)")
        for seller in result.sellers:
            write(f"            {seller.spec.staff_username} (manager of {seller.spec.name} only)")
        write(f"  Password  {password}  (all three; set DEMO_PASSWORD to choose another)")
        write("")
        for seller in result.sellers:
            if seller.api_key:
                write(f"  API key for {seller.spec.name}, shown once, store it now:")
                write(f"    {seller.api_key}")
                write(f"    curl -H 'Authorization: Bearer {seller.api_key}' {base}/api/v1/products/")
            else:
                write(
                    f"  {seller.spec.name}: its API key was shown when it was first seeded. A new one: "
                    f"python manage.py create_api_key --seller {seller.spec.slug}"
                )
            if seller.not_placed:
                write(self.style.WARNING(f"    {seller.not_placed} open orders could not be placed (stock)."))
        write("")
        self._counts([s.seller.pk for s in result.sellers])

    def _counts(self, seller_ids: list[int]) -> None:
        orders = Order.objects.filter(seller_id__in=seller_ids)
        by_lifecycle = dict(orders.values_list("lifecycle").annotate(n=Count("id")).order_by())
        rows = [
            ("sellers", len(seller_ids)),
            ("warehouses", Warehouse.objects.filter(seller_id__in=seller_ids).count()),
            ("products", Product.objects.filter(seller_id__in=seller_ids).count()),
            ("stock rows", Stock.objects.filter(seller_id__in=seller_ids).count()),
            ("ledger entries", StockLedgerEntry.objects.filter(seller_id__in=seller_ids).count()),
            ("orders", sum(by_lifecycle.values())),
            ("  " + ", ".join(f"{state} {n}" for state, n in sorted(by_lifecycle.items())), None),
            ("order lines", OrderLine.objects.filter(order__seller_id__in=seller_ids).count()),
            ("order events", OrderEvent.objects.filter(seller_id__in=seller_ids).count()),
        ]
        for label, value in rows:
            self.stdout.write(f"  {value:>8,} {label}" if value is not None else f"           {label.strip()}")
