from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from orders.finance.services.exchange import exchange_rates_load

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "exchange_rates_sample.csv"


class Command(BaseCommand):
    help = (
        "Load exchange rates from a CSV file with the header date,base_currency,quote_currency,rate "
        "(1 base = rate quote on that day). A pair already stored for a day is replaced. All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help=f"The CSV file. Default: the sample, {SAMPLE.name}.")
        parser.add_argument("--source", default="", help="Where the rates come from, e.g. ECB. Default: the file name.")

    def handle(self, *args, path=None, source="", **options):
        file = Path(path) if path else SAMPLE
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            with file.open(newline="", encoding="utf-8-sig") as stream:
                written = exchange_rates_load(stream=stream, source=source or file.name)
        except ApplicationError as exc:
            problems = "; ".join(f"{where}: {' '.join(messages)}" for where, messages in exc.details.items())
            raise CommandError(f"{exc.message} {problems}") from exc
        self.stdout.write(self.style.SUCCESS(f"{written} exchange rates loaded from {file.name}."))
