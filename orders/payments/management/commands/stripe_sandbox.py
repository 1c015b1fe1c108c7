"""Run the local Stripe server on its own (``make run`` starts it next to the web server).

python manage.py stripe_sandbox [--port 12111] [--webhook-url http://127.0.0.1:8000/api/v1/stripe/webhook/]
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.payments.sandbox import StripeSandbox


class Command(BaseCommand):
    help = "Serve a local Stripe (PaymentIntents, refunds, charges, events) and send signed webhooks."

    def add_arguments(self, parser):
        base = urlsplit(settings.STRIPE_API_BASE)
        parser.add_argument("--host", default=base.hostname or "127.0.0.1")
        parser.add_argument("--port", type=int, default=base.port or 12111)
        parser.add_argument(
            "--webhook-url",
            action="append",
            dest="webhook_urls",
            default=None,
            help="Where to POST signed events (repeatable). Default: the local web server's endpoint.",
        )

    def handle(self, *args, host, port, webhook_urls, **options):
        if not settings.STRIPE_API_KEY.startswith("sk_test_"):
            raise CommandError("The local Stripe only runs with a test key (sk_test_…).")
        urls = webhook_urls or ["http://127.0.0.1:8000/api/v1/stripe/webhook/"]
        sandbox = StripeSandbox(
            api_key=settings.STRIPE_API_KEY, webhook_secret=settings.STRIPE_WEBHOOK_SECRET, webhook_urls=urls
        )
        self.stdout.write(f"Local Stripe on http://{host}:{port}, webhooks to {', '.join(urls)}")
        try:
            sandbox.serve_forever(host, port)
        except KeyboardInterrupt:
            self.stdout.write("Local Stripe stopped.")
