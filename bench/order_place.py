"""Order placement benchmark: ``order_place`` end to end against the configured
database (``DATABASE_URL``; ``make bench`` uses the local PostgreSQL when it answers).

It creates its own seller (a new slug per run, so runs never collide and nothing needs
cleaning up) with 200 products in three warehouses and ample stock, places orders of
1–5 lines through the service layer, optionally from several threads with a
connection each, and checks afterwards that every acknowledged order exists and
that every stock row balances: on hand equals its ledger, allocated equals its
order allocations. Query counts come from a separate sample placed before the timed
run. Human-readable figures first; ``name=value`` lines last.

    .venv/bin/python bench/order_place.py --orders 2000 --threads 4
"""
# Django must be set up before the models are imported:
# ruff: noqa: E402

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# With DEBUG on, Django keeps every query of the run in memory; a benchmark must not.
os.environ.setdefault("DEBUG", "false")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from core.actor import Actor
from core.exceptions import ApplicationError
from inventory.models import Product, Stock, StockLedgerEntry, Warehouse
from inventory.services import stock_receive
from orders.models import Allocation, Order
from orders.services import AddressInput, LineInput, OrderInput, order_place
from sellers.models import Seller

ACTOR = Actor.system("benchmark")
QUERY_BUDGET = 12
WAREHOUSES = (
    ("EWR", "Newark", "NJ", "07105", Decimal("40.7357"), Decimal("-74.1724"), 10),
    ("RNO", "Reno", "NV", "89502", Decimal("39.5296"), Decimal("-119.8138"), 20),
    ("DFW", "Dallas", "TX", "75247", Decimal("32.7767"), Decimal("-96.7970"), 30),
)
CITIES = (
    ("Boston", "MA", "02110"),
    ("Chicago", "IL", "60601"),
    ("Denver", "CO", "80202"),
    ("Seattle", "WA", "98101"),
    ("Austin", "TX", "78701"),
    ("Atlanta", "GA", "30303"),
    ("Portland", "OR", "97204"),
    ("Miami", "FL", "33130"),
)


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)

    @property
    def placed(self) -> int:
        return len(self.latencies_ms)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="Orders in the timed run (default %(default)s).")
    parser.add_argument("--threads", type=int, default=1, help="Concurrent clients (default %(default)s).")
    parser.add_argument("--products", type=int, default=200, help="Products of the bench seller (default %(default)s).")
    parser.add_argument(
        "--sample", type=int, default=50, help="Orders placed first with queries counted (default %(default)s)."
    )
    parser.add_argument("--warmup", type=int, default=20, help="Untimed orders before anything is measured.")
    parser.add_argument("--seed", type=int, default=7, help="Random seed for the baskets (default %(default)s).")
    options = parser.parse_args()
    if options.orders < 1 or options.threads < 1 or options.products < 5 or options.sample < 1:
        parser.error("--orders, --threads and --sample must be at least 1, --products at least 5")
    return options


def bench_seller_create(*, products: int, units_each: int) -> tuple[Seller, list[str]]:
    """A fresh seller with products stocked in three warehouses, in one transaction."""
    slug = f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    with transaction.atomic():
        seller = Seller.objects.create(name=f"Benchmark {slug}", slug=slug, base_currency="USD", country="US")
        warehouses = [
            Warehouse.objects.create(
                seller=seller,
                code=code,
                name=f"{city} benchmark warehouse",
                address_line1="1 Bench Street",
                city=city,
                region=region,
                postal_code=postal_code,
                country="US",
                latitude=latitude,
                longitude=longitude,
                ships_to=["US"],
                priority=priority,
            )
            for code, city, region, postal_code, latitude, longitude, priority in WAREHOUSES
        ]
        catalog = Product.objects.bulk_create(
            Product(
                seller=seller,
                sku=f"BENCH-{n:04d}",
                name=f"Benchmark product {n}",
                price=Money(Decimal(5 + n % 95) + Decimal("0.99"), "USD"),
                weight_grams=100 + n,
            )
            for n in range(products)
        )
        for product in catalog:
            for warehouse in warehouses:
                stock_receive(product=product, warehouse=warehouse, quantity=units_each, actor=ACTOR, reference="bench")
    return seller, [p.sku for p in catalog]


def order_inputs(*, count: int, skus: list[str], rng: random.Random, start: int) -> list[OrderInput]:
    inputs = []
    for n in range(start, start + count):
        city, region, postal_code = CITIES[n % len(CITIES)]
        lines = [LineInput(sku=sku, quantity=rng.randint(1, 3)) for sku in rng.sample(skus, rng.randint(1, 5))]
        inputs.append(
            OrderInput(
                currency="USD",
                shipping_address=AddressInput(
                    name=f"Bench Customer {n}",
                    line1=f"{n % 900 + 1} Main Street",
                    city=city,
                    region=region,
                    postal_code=postal_code,
                    country="US",
                ),
                lines=lines,
                customer_email=f"customer{n}@bench.example",
                customer_name=f"Bench Customer {n}",
                shipping_total=Decimal("4.95"),
            )
        )
    return inputs


def place_all(seller: Seller, inputs: list[OrderInput]) -> Outcome:
    """Place orders one after the other on this thread's connection."""
    outcome = Outcome()
    for data in inputs:
        started = time.perf_counter()
        try:
            order_place(seller=seller, data=data, actor=ACTOR)
        except (ApplicationError, DatabaseError) as exc:
            outcome.errors[type(exc).__name__] += 1
        else:
            outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
    return outcome


def client_thread(seller: Seller, inputs: list[OrderInput]) -> Outcome:
    """One concurrent client: its own connection, closed when it is done."""
    try:
        return place_all(seller, inputs)
    finally:
        connections.close_all()


def timed_run(seller: Seller, inputs: list[OrderInput], threads: int) -> tuple[Outcome, float]:
    shares = [inputs[i::threads] for i in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(client_thread, [seller] * threads, shares))
    elapsed = time.perf_counter() - started
    merged = Outcome()
    for outcome in outcomes:
        merged.latencies_ms.extend(outcome.latencies_ms)
        merged.errors.update(outcome.errors)
    return merged, elapsed


def counted_sample(seller: Seller, inputs: list[OrderInput]) -> tuple[Outcome, list[list[str]]]:
    """Place the sample with every query captured, order by order."""
    outcome, queries = Outcome(), []
    for data in inputs:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            try:
                order_place(seller=seller, data=data, actor=ACTOR)
            except (ApplicationError, DatabaseError) as exc:
                outcome.errors[type(exc).__name__] += 1
                continue
            outcome.latencies_ms.append((time.perf_counter() - started) * 1000)
        queries.append([q["sql"] for q in captured.captured_queries])
    return outcome, queries


def query_kind(sql: str) -> str:
    """'SELECT … FROM "a" JOIN "b" … FOR UPDATE' → 'SELECT FOR UPDATE a+b'."""
    verb = sql.lstrip().split(None, 1)[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"):
        return verb
    if verb in ("INSERT", "UPDATE"):
        match = re.search(r'(?:INTO|UPDATE)\s+"?(\w+)', sql, re.IGNORECASE)
        return f"{verb} {match.group(1) if match else '?'}"
    tables = re.findall(r'(?:FROM|JOIN)\s+"?(\w+)', sql, re.IGNORECASE)
    locking = " FOR UPDATE" if "FOR UPDATE" in sql.upper() else ""
    return f"{verb}{locking} {'+'.join(dict.fromkeys(tables)) or '?'}"


def print_breakdown(queries: list[list[str]]) -> None:
    print(f"\nQueries per order above {QUERY_BUDGET}. Where they go (mean per order over the sample):")
    kinds = Counter(query_kind(sql) for order in queries for sql in order)
    for kind, count in kinds.most_common():
        print(f"  {count / len(queries):5.2f}  {kind}")
    example = max(queries, key=len)
    print(f"\nOne order's queries in sequence ({len(example)}):")
    for number, sql in enumerate(example, start=1):
        print(f"  {number:2d}. {sql[:150]}{'…' if len(sql) > 150 else ''}")


def verify(seller: Seller, acknowledged: int) -> list[str]:
    problems = []
    stored = Order.objects.filter(seller=seller).count()
    if stored != acknowledged:
        problems.append(f"{stored} orders stored, {acknowledged} acknowledged")
    ledger = dict(
        StockLedgerEntry.objects.filter(seller=seller).values_list("stock").annotate(total=Sum("quantity")).order_by()
    )
    allocated = dict(
        Allocation.objects.filter(stock__seller=seller).values_list("stock").annotate(total=Sum("quantity")).order_by()
    )
    for stock in Stock.objects.filter(seller=seller):
        if ledger.get(stock.pk, 0) != stock.on_hand:
            problems.append(f"stock {stock.pk}: on hand {stock.on_hand}, ledger {ledger.get(stock.pk, 0)}")
        if allocated.get(stock.pk, 0) != stock.allocated:
            problems.append(f"stock {stock.pk}: allocated {stock.allocated}, allocations {allocated.get(stock.pk, 0)}")
    return problems


def percentile(values: list[float], fraction: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def main() -> int:
    options = arguments()
    vendor = connection.vendor
    broker = settings.CELERY_BROKER_URL.split("://")[0]
    total = options.warmup + options.sample + options.orders
    # Enough in each warehouse that any one of them could fill every order alone.
    units_each = total * 3 * 2 * 2 // options.products + 50
    print(f"Database: {vendor} ({connection.settings_dict.get('NAME')}); broker: {broker}")
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("Applying migrations first (the benchmark needs the current schema)…")
        call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    seller, skus = bench_seller_create(products=options.products, units_each=units_each)
    print(
        f"Seller {seller.slug}: {len(skus)} products × {len(WAREHOUSES)} warehouses, "
        f"{units_each} units each ({time.perf_counter() - started:.1f} s to set up)"
    )

    rng = random.Random(options.seed)
    warmup = order_inputs(count=options.warmup, skus=skus, rng=rng, start=0)
    sample = order_inputs(count=options.sample, skus=skus, rng=rng, start=options.warmup)
    timed = order_inputs(count=options.orders, skus=skus, rng=rng, start=options.warmup + options.sample)

    warm = place_all(seller, warmup)
    counted, queries = counted_sample(seller, sample)
    queries_per_order = sum(map(len, queries)) / len(queries) if queries else float("nan")
    print(f"Sample: {len(sample)} orders, {queries_per_order:.1f} queries per order")

    print(f"Timed: {options.orders} orders from {options.threads} thread(s)…")
    outcome, elapsed = timed_run(seller, timed, options.threads)
    errors = warm.errors + counted.errors + outcome.errors
    latencies = sorted(outcome.latencies_ms)
    orders_per_s = outcome.placed / elapsed
    p50 = percentile(latencies, 0.50) if latencies else float("nan")
    p99 = percentile(latencies, 0.99) if latencies else float("nan")
    print(
        f"  {outcome.placed} placed in {elapsed:.2f} s: {orders_per_s:.1f} orders/s, "
        f"latency p50 {p50:.1f} ms, p90 {percentile(latencies, 0.90) if latencies else 0:.1f} ms, "
        f"p99 {p99:.1f} ms, max {latencies[-1] if latencies else 0:.1f} ms"
    )
    if errors:
        print("  errors: " + ", ".join(f"{name} × {count}" for name, count in errors.most_common()))

    acknowledged = warm.placed + counted.placed + outcome.placed
    problems = verify(seller, acknowledged)
    if problems:
        print(f"VERIFICATION FAILED ({len(problems)} problems):")
        for problem in problems[:20]:
            print(f"  {problem}")
    else:
        print(f"Verified: {acknowledged} orders stored as acknowledged; every stock row balances.")
    if queries and queries_per_order > QUERY_BUDGET:
        print_breakdown(queries)

    print()
    print(f"orders={outcome.placed}")
    print(f"threads={options.threads}")
    print(f"orders_per_s={orders_per_s:.1f}")
    print(f"p50_ms={p50:.2f}")
    print(f"p99_ms={p99:.2f}")
    print(f"queries_per_order={queries_per_order:.1f}")
    print(f"errors={sum(errors.values())}")
    print(f"verified={'no' if problems else 'yes'}")
    print(f"database={vendor}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
