"""Order API throughput: storefront clients placing orders over HTTP.

    .venv/bin/python bench/order_api.py [--clients 32] [--duration 60] [--workers 4] [--warmup 10]

Starts gunicorn on production settings (DEBUG off) against DATABASE_URL (PostgreSQL;
the local one by default), drives it from a separate process with N keep-alive clients
that place orders of 1–5 lines across many SKUs, each with an Idempotency-Key, for a
fixed time (after an unmeasured warm-up and an ANALYZE, so a new database's empty
order tables do not leave plans made for empty tables behind), then checks in the
database that every acknowledged order exists exactly once and that stock balances
(allocated = Σ allocations, on hand = Σ ledger). Prints ``name=value`` lines last.
``--url`` targets a server that is already running instead.

Besides throughput and latency it prints the CPU time the server (gunicorn's
processes), PostgreSQL and Redis (all their processes on this machine) spent per order
while the clients ran: on a 2-core machine they are what bounds throughput, and they vary
far less from run to run than orders per second do.
"""

import argparse
import base64
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/waybill")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
SKUS = 400
ADDRESS = {"name": "Bench Buyer", "line1": "1 Load Street", "city": "Boston", "postal_code": "02110", "country": "US"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_seller(clients: int) -> tuple[str, list[str]]:
    """A fresh seller with SKUS products in three warehouses and one API key per client."""
    import django

    django.setup()
    from django.core.management import call_command
    from djmoney.money import Money

    from core.actor import Actor
    from inventory.models import Product, Warehouse
    from inventory.services import stock_receive
    from sellers.models import Seller
    from sellers.services import api_key_create

    call_command("migrate", verbosity=0)
    slug = f"bench-api-{int(time.time())}"
    seller = Seller.objects.create(name=f"Bench {slug}", slug=slug, country="US", notify_customers=False)
    warehouses = [
        Warehouse.objects.create(
            seller=seller, code=code, name=code, address_line1="1 Dock", city=city, country="US", priority=p
        )
        for code, city, p in (("EWR", "Newark", 1), ("RNO", "Reno", 2), ("ATL", "Atlanta", 3))
    ]
    products = Product.objects.bulk_create(
        Product(seller=seller, sku=f"B-{i:05d}", name=f"Bench product {i}", price=Money("9.90", "USD"))
        for i in range(SKUS)
    )
    actor = Actor.system("bench")
    for product in products:
        for warehouse in warehouses:
            stock_receive(product=product, warehouse=warehouse, quantity=100_000, actor=actor)
    keys = [api_key_create(seller=seller, name=f"client {i}").raw_key for i in range(clients)]
    analyze()
    return slug, keys


def analyze() -> None:
    """Statistics for the planner, as autovacuum gathers them in production after a
    load (the database may run with autovacuum off, as this machine's does). ANALYZE
    also makes the server's connections plan their prepared statements again."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    connection.close()


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "WAYBILL_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12"),
        "CACHE_URL": os.environ.get("CACHE_URL", "redis://127.0.0.1:6379/12"),
        "WAYBILL_API_RATE_PER_MINUTE": "10000000",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            # The production configuration: the app is preloaded in the master, so the
            # workers fork with the geocoding tables built instead of each building them.
            "--config",
            str(ROOT / "config/gunicorn.conf.py"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) so far of the server's processes and of PostgreSQL's.

    A process's children that have ended count with it (gunicorn's master reaps its
    workers, PostgreSQL's postmaster its backends, which come and go as connections
    reach their age), so the difference of two readings is what was spent between them,
    whichever processes started or ended meanwhile."""

    def used(process: psutil.Process) -> float:
        times = process.cpu_times()
        return times.user + times.system + times.children_user + times.children_system

    spent = {"server": 0.0, "db": 0.0, "redis": 0.0}
    if server_pid is not None:
        server = psutil.Process(server_pid)
        for process in [server, *server.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                spent["server"] += used(process)
    for process in psutil.process_iter(["name"]):
        kind = {"postgres": "db", "redis-server": "redis"}.get(process.info["name"])
        if kind:
            with contextlib.suppress(psutil.Error):
                spent[kind] += used(process)
    return spent


def order_body(rng: random.Random) -> bytes:
    skus = rng.sample(range(SKUS), rng.randint(1, 5))
    return json.dumps(
        {
            "currency": "USD",
            "customer": {"email": f"buyer{rng.randint(1, 10**6)}@example.com"},
            "shipping_address": ADDRESS,
            "lines": [{"sku": f"B-{s:05d}", "quantity": rng.randint(1, 3)} for s in skus],
        }
    ).encode()


class Client:
    """One storefront client: an order at a time, a new one as soon as the last is
    answered, over a keep-alive connection that is opened again when the server closes
    it (gunicorn's sync workers close after every response).

    All clients share one thread and a selector (``load``): the load generator runs on
    the same two cores as the server, and 32 threads handing the GIL around, each woken
    for its own response, cost the server CPU it would otherwise have. HTTP/1.1 is
    written and read here by hand for the same reason: the server's answers are plain
    ``Content-Length`` responses, and http.client cannot be driven by a selector."""

    def __init__(self, address: tuple[str, int], host: str, key: str, seed: int, selector) -> None:
        self.address, self.host, self.key = address, host, key
        self.rng = random.Random(seed)
        self.selector = selector
        self.sock: socket.socket | None = None
        self.results: list = []
        self.started = 0.0

    def start(self) -> None:
        body = order_body(self.rng)
        self.request = (
            f"POST /api/v1/orders/ HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.key}\r\n"
            f"Content-Type: application/json\r\nIdempotency-Key: {uuid.uuid4()}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.buffer = b""
        self.started = time.perf_counter()
        if self.sock is None:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setblocking(False)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.connect_ex(self.address)  # in progress: writable once connected
            self.selector.register(self.sock, selectors.EVENT_WRITE, self)
        else:
            self.selector.modify(self.sock, selectors.EVENT_WRITE, self)

    def writable(self) -> bool:
        """Sends what it can of the request; True if that failed (the order is over)."""
        if error := self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            self.failed(OSError(error, os.strerror(error)))
            return True
        try:
            sent = self.sock.send(self.request)
        except OSError as exc:
            self.failed(exc)
            return True
        self.request = self.request[sent:]
        if not self.request:
            self.selector.modify(self.sock, selectors.EVENT_READ, self)
        return False

    def readable(self) -> bool:
        """Reads what arrived; True once the response is complete."""
        try:
            chunk = self.sock.recv(65536)
        except OSError as exc:
            self.failed(exc)
            return True
        if not chunk:
            self.failed(ConnectionResetError("closed before a whole response"))
            return True
        self.buffer += chunk
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return False
        head = self.buffer[:head_end].decode("latin-1").split("\r\n")
        headers = dict(line.split(":", 1) for line in head[1:])
        headers = {name.strip().lower(): value.strip() for name, value in headers.items()}
        length = int(headers.get("content-length", 0))
        payload = self.buffer[head_end + 4 :]
        if len(payload) < length:
            return False
        status = int(head[0].split(" ", 2)[1])
        elapsed = time.perf_counter() - self.started
        try:
            order_id = json.loads(payload[:length])["id"] if status == 201 else None
        except ValueError as exc:
            self.failed(exc)
            return True
        self.results.append((elapsed, status, order_id))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return True

    def failed(self, exc: Exception) -> None:
        self.results.append((time.perf_counter() - self.started, repr(exc), None))
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.selector.unregister(self.sock)
            self.sock.close()
            self.sock = None


def load(base: str, keys: list[str], duration: float, queue) -> None:
    """Runs in its own process: every client in one thread, stopping at one deadline
    (an order under way then is waited for). Sends back the results and the CPU seconds
    this process spent."""
    cpu_start = time.process_time()
    parts = urlsplit(base)
    selector = selectors.DefaultSelector()
    clients = [
        Client((parts.hostname, parts.port), parts.netloc, key, index, selector) for index, key in enumerate(keys)
    ]
    until = time.monotonic() + duration
    busy = set(clients)

    def answered(client: Client) -> None:
        if time.monotonic() < until:
            client.start()
        else:
            client.close()
            busy.discard(client)

    for client in clients:
        client.start()
    while busy:
        for event, mask in selector.select(timeout=1.0):
            client = event.data
            if client.writable() if mask & selectors.EVENT_WRITE else client.readable():
                answered(client)
        for client in list(busy):  # a request the server never answers fails after 30 s
            if time.perf_counter() - client.started > 30:
                client.failed(TimeoutError("no answer in 30 s"))
                answered(client)
    queue.put(([item for client in clients for item in client.results], time.process_time() - cpu_start))


def run_clients(base: str, keys: list[str], duration: float) -> tuple[list, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    loader = context.Process(target=load, args=(base, keys, duration, queue))
    loader.start()
    results, cpu = queue.get()
    loader.join()
    return results, cpu


def audit(slug: str, acknowledged: list[int]) -> list[str]:
    from django.db.models import Count, Sum

    from inventory.models import Stock
    from orders.models import Allocation, Order

    problems = []
    orders = Order.objects.filter(seller__slug=slug)
    if len(set(acknowledged)) != len(acknowledged):
        problems.append("an order id was acknowledged twice")
    stored = set(orders.filter(pk__in=acknowledged).values_list("pk", flat=True))
    if stored != set(acknowledged):
        problems.append(f"{len(set(acknowledged) - stored)} acknowledged orders are missing")
    if orders.count() != len(set(acknowledged)):
        problems.append(f"{orders.count()} orders stored, {len(set(acknowledged))} acknowledged")
    numbers = orders.values("number").annotate(n=Count("id")).filter(n__gt=1).count()
    if numbers:
        problems.append(f"{numbers} order numbers are used twice")
    allocated = dict(
        Allocation.objects.filter(stock__seller__slug=slug).values_list("stock_id").annotate(total=Sum("quantity"))
    )
    for stock in Stock.objects.filter(seller__slug=slug).annotate(ledger_total=Sum("ledger__quantity")):
        if stock.allocated != allocated.get(stock.pk, 0) or stock.on_hand != stock.ledger_total:
            problems.append(f"stock {stock.pk} does not balance")
    return problems


def queries_per_order(slug: str, key: str, samples: int = 20) -> float:
    """The server's code path in this process, counting SQL statements per order."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    rng = random.Random(7)
    total = 0
    reset_queries()  # the setup filled the DEBUG query log; a full log counts nothing
    for _ in range(samples):
        body = {
            "currency": "USD",
            "shipping_address": ADDRESS,
            "lines": [{"sku": f"B-{s:05d}", "quantity": 1} for s in rng.sample(range(SKUS), rng.randint(1, 5))],
        }
        with CaptureQueriesContext(connection) as captured:
            response = client.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        if response.status_code != 201:
            raise SystemExit(f"sample order failed: {response.status_code} {response.content[:300]!r}")
        total += len(captured.captured_queries)
    return total / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of unmeasured orders first")
    parser.add_argument("--url", help="target a running server instead of starting gunicorn")
    args = parser.parse_args()

    slug, keys = setup_seller(args.clients)
    from django.db import connection

    print(f"seller {slug}: {SKUS} SKUs in 3 warehouses; database {connection.vendor}", flush=True)
    connection.close()
    server = None
    base = args.url
    if base is None:
        port = free_port()
        server = start_server(port, args.workers)
        base = f"http://127.0.0.1:{port}"
    try:
        warmed = []
        if args.warmup > 0:
            # A new database's order tables are empty: the plans made for them, and
            # statistics that say so, are not what a running shop has. The clients
            # place orders unmeasured first, then the tables are analysed.
            print(f"{args.clients} clients warm up for {args.warmup:.0f} s", flush=True)
            warmed, _ = run_clients(base, keys, args.warmup)
            analyze()
        print(f"{args.clients} clients for {args.duration:.0f} s against {base}", flush=True)
        cpu_before = cpu_seconds(server.pid if server else None)
        started = time.monotonic()
        results, clients_cpu = run_clients(base, keys, args.duration)
        wall = time.monotonic() - started
        cpu_after = cpu_seconds(server.pid if server else None)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    created = [order_id for _, status, order_id in results if status == 201]
    errors = [status for _, status, _ in results if status != 201]
    latencies = sorted(elapsed * 1000 for elapsed, status, _ in results if status == 201)
    problems = audit(slug, created + [order_id for _, status, order_id in warmed if status == 201])
    per_order = queries_per_order(slug, keys[0])
    for problem in problems:
        print(f"AUDIT FAILED: {problem}")
    if errors:
        print(f"error statuses: {sorted({str(e) for e in errors})[:10]}")
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    print(f"audit={'ok' if not problems else 'failed'}")
    print(f"orders={len(created)}")
    print(f"orders_per_s={len(created) / wall:.1f}")
    print(f"p50_ms={statistics.median(latencies) if latencies else 0:.1f}")
    print(f"p99_ms={p99:.1f}")
    print(f"errors={len(errors)}")
    print(f"queries_per_order={per_order:.1f}")
    if created:
        if server is not None:
            server_ms = (cpu_after["server"] - cpu_before["server"]) * 1000 / len(created)
            print(f"server_cpu_ms_per_order={server_ms:.2f}")
        # The load generator shares the machine: what it spends, the server cannot.
        print(f"clients_cpu_ms_per_order={clients_cpu * 1000 / len(created):.2f}")
        print(f"db_cpu_ms_per_order={(cpu_after['db'] - cpu_before['db']) * 1000 / len(created):.2f}")
        # The throttle's counter and the outbox's relay flag (and anything else on this
        # machine's Redis while the clients ran).
        print(f"redis_cpu_ms_per_order={(cpu_after['redis'] - cpu_before['redis']) * 1000 / len(created):.2f}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
