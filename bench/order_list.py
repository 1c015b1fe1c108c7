"""Order listing at a million orders: what a sync client's requests cost.

    .venv/bin/python bench/order_list.py [--orders 1000000]

PostgreSQL only (DATABASE_URL; the local one by default). The first run loads one
seller with N orders of one line each, spread over a year across channels and
statuses, with INSERT … SELECT FROM generate_series (about a minute for a million);
later runs reuse them. Then it times the list requests through the real API view —
newest first, by status, by channel, changes since yesterday in update order, a
created-at week, and the 200th page of a cursor walk — and prints ``name=value``
lines last (median and 95th percentile in ms, queries per request).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waybill")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DEBUG", "false")
SLUG = "bench-list"
REPEAT = 15

LOAD_ORDERS = """
INSERT INTO orders_order (
    created_at, updated_at, seller_id, number, channel, channel_account, external_id,
    customer_email, customer_name, customer_phone, ship_name, ship_company, ship_line1, ship_line2,
    ship_city, ship_region, ship_postal_code, ship_country, ship_phone, currency,
    subtotal, shipping_total, tax_total, discount_total, total,
    lifecycle, payment_status, fulfillment_status, placed_at, confirmed_at,
    cancel_reason, customer_note, metadata, payment_risk_level, delivery_method
)
SELECT t.created, t.created + (random() * interval '3 days'), %(seller)s, g,
       (ARRAY['storefront','storefront','storefront','pos','manual','amazon','ebay'])[1 + g %% 7], '',
       CASE WHEN g %% 7 >= 5 THEN 'MKT-' || g ELSE '' END,
       'customer' || (g %% 200000) || '@example.com', 'Customer ' || (g %% 200000), '',
       'Customer ' || (g %% 200000), '', (g %% 997) || ' Main Street', '', 'Boston', '', '02110', 'US', '', 'USD',
       29.90, 4.90, 0, 0, 34.80,
       (ARRAY['completed','completed','completed','completed','confirmed','cancelled','on_hold'])[1 + g %% 7],
       'paid', 'shipped', t.created, t.created, '', '', '{}'::jsonb, '', 'ship'
FROM generate_series(1, %(count)s) AS g,
     LATERAL (SELECT now() - interval '365 days' + (g::float / %(count)s) * interval '365 days' AS created) AS t
"""
LOAD_LINES = """
INSERT INTO orders_orderline (order_id, position, product_id, sku, name, quantity, quantity_shipped,
                              quantity_cancelled, quantity_returned, quantity_backordered, is_preorder,
                              currency, unit_price, line_total, tax_class, tax_rate, tax_amount)
SELECT o.id, 0, %(product)s, 'LIST-1', 'Listed product', 1, 1, 0, 0, 0, false, 'USD', 29.90, 29.90, 'standard', 0, 0
FROM orders_order o WHERE o.seller_id = %(seller)s
"""


def setup(count: int):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from djmoney.money import Money

    from inventory.models import Product
    from orders.models import Order
    from sellers.models import Seller, SellerSequence
    from sellers.services import api_key_create

    if connection.vendor != "postgresql":
        raise SystemExit("bench/order_list.py needs PostgreSQL (DATABASE_URL)")
    call_command("migrate", verbosity=0)
    seller, _ = Seller.objects.get_or_create(slug=SLUG, defaults={"name": "Bench list", "country": "US"})
    have = Order.objects.filter(seller=seller).count()
    if have < count:
        if have:
            raise SystemExit(f"seller {SLUG} has {have} orders, fewer than {count}: drop it or ask for --orders {have}")
        product, _ = Product.objects.get_or_create(
            seller=seller, sku="LIST-1", defaults={"name": "Listed product", "price": Money("29.90", "USD")}
        )
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(LOAD_ORDERS, {"seller": seller.pk, "count": count})
            cursor.execute(LOAD_LINES, {"seller": seller.pk, "product": product.pk})
            cursor.execute("ANALYZE orders_order")
            cursor.execute("ANALYZE orders_orderline")
        SellerSequence.objects.update_or_create(seller=seller, name="order", defaults={"last_value": count})
        print(f"loaded {count} orders and lines in {time.monotonic() - started:.0f} s", flush=True)
    total = Order.objects.filter(seller=seller).count()
    return seller, api_key_create(seller=seller, name="bench list").raw_key, total


def timed(client, path, params=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples, queries = [], 0
    for _ in range(REPEAT):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path, params or {})
            samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} {params}: {response.status_code} {response.content[:200]!r}")
        queries = len(captured.captured_queries)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1], queries, response.json()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    seller, key, total = setup(args.orders)

    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    now = timezone.now()
    week_start = (now - timedelta(days=180)).isoformat()
    week_end = (now - timedelta(days=173)).isoformat()
    cases = {
        "newest": {},
        "by_status": {"lifecycle": "on_hold"},
        "by_channel": {"channel": "amazon"},
        "changed_since_yesterday": {"updated_since": (now - timedelta(days=1)).isoformat(), "ordering": "updated_at"},
        "created_week": {"created_after": week_start, "created_before": week_end},
    }
    results = {}
    for name, params in cases.items():
        results[name] = timed(client, "/api/v1/orders/", {**params, "page_size": 50})

    page = client.get("/api/v1/orders/", {"page_size": 50}).json()
    for _ in range(199):
        page = client.get(page["next"]).json()
    deep = urlsplit(page["next"])
    results["page_200"] = timed(client, deep.path + "?" + deep.query)

    print(f"seller {SLUG}: {total} orders; {REPEAT} requests per case, 50 orders with lines per page")
    for name, (p50, p95, queries, body) in results.items():
        print(f"  {name:<26} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {queries} queries   {len(body['results'])} rows")
    print(f"orders={total}")
    for name, (p50, p95, _queries, _) in results.items():
        print(f"{name}_p50_ms={p50:.1f}")
        print(f"{name}_p95_ms={p95:.1f}")
    print(f"queries_per_list={max(q for _, _, q, _ in results.values())}")


if __name__ == "__main__":
    main()
