"""Run the local EasyPost on a fixed port for the demo: point WAYBILL_EASYPOST_API_BASE
at it (the default already is). With --advance-every, parcels move on by themselves
and each step is pushed, signed, to --webhook-url."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from shipping.sandbox.easypost import EasyPostSandbox


class Command(BaseCommand):
    help = "Serve a local EasyPost API (shipments, rates, labels, refunds, trackers) for the demo."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument(
            "--webhook-url",
            default="http://127.0.0.1:8000/api/v1/shipping/carriers/easypost/tracking/",
            help="Where tracker.updated events are pushed.",
        )
        parser.add_argument("--advance-every", type=float, default=0, help="Seconds between tracking steps; 0: never.")

    def handle(self, *args, port, webhook_url, advance_every, **options):
        sandbox = EasyPostSandbox(
            api_key=settings.WAYBILL_EASYPOST_API_KEY,
            webhook_secret=settings.WAYBILL_EASYPOST_WEBHOOK_SECRET,
            port=port,
            webhook_url=webhook_url,
        ).start()
        self.stdout.write(f"EasyPost sandbox on {sandbox.api_base}; pushes to {webhook_url or 'nowhere'}")
        try:
            while True:
                time.sleep(advance_every or 3600)
                if advance_every:
                    self._advance(sandbox)
        except KeyboardInterrupt:
            pass
        finally:
            sandbox.stop()

    def _advance(self, sandbox: EasyPostSandbox) -> None:
        for tracker in list(sandbox.state.trackers.values()):
            if tracker["status"] == "delivered":
                continue
            try:
                sandbox.advance(tracker["tracking_code"], push=True)
            except OSError as exc:
                self.stderr.write(f"Push for {tracker['tracking_code']} failed: {exc}")
