"""The tax engine interface: what Waybill asks, what an engine answers, and how the
configured engine is found.

Waybill splits the discount and decides what is taxable; an engine only says, per
charge (each line and the shipping), which rate applies and how much tax that is. The
built-in ``TableTaxEngine`` reads the seller's ``TaxRate`` rows; an external service
(Avalara, TaxJar, Stripe Tax) plugs in as another class with the same ``quote``
method, named by the ``WAYBILL_TAX_ENGINE`` setting. ``quote`` runs before any lock
is taken, so it may call out over the network.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from djmoney.money import Money

# Where a placed order keeps the part of its tax breakdown its lines cannot carry (the
# shipping's rate and tax, each charge's discount share), in ``Order.metadata``.
# Reserved: an order input may not carry it.
TAX_METADATA_KEY = "waybill_tax"


@dataclass(frozen=True)
class TaxableCharge:
    """One thing the customer pays for: a line (``tax_class`` from its product) or the
    shipping (standard class). ``amount`` is what is charged for it after its share of
    the discount; with tax-inclusive prices it includes the tax."""

    tax_class: str
    amount: Money
    sku: str = ""  # empty for shipping
    quantity: int = 1


@dataclass(frozen=True)
class TaxRequest:
    seller_id: int
    currency: str
    country: str
    region: str
    postal_code: str
    city: str
    prices_include_tax: bool
    lines: tuple[TaxableCharge, ...]
    shipping: TaxableCharge
    on: date  # the day the order is placed: the rates valid that day apply


@dataclass(frozen=True)
class TaxedCharge:
    rate: Decimal  # a fraction, 0.19 = 19 %
    tax: Money  # on the minor-unit grid; with inclusive prices, the part of the amount that is tax
    name: str = ""  # e.g. "MwSt 19 %", for invoices


@dataclass(frozen=True)
class TaxQuote:
    """An engine's answer: one ``TaxedCharge`` per request line, in order, and one for
    the shipping. ``jurisdiction`` says where the rates came from, e.g. "US-NY"."""

    lines: tuple[TaxedCharge, ...]
    shipping: TaxedCharge
    jurisdiction: str


class TaxEngine(Protocol):
    name: str

    def quote(self, request: TaxRequest) -> TaxQuote | None:
        """The tax on each charge, or None when the seller does not collect tax through
        this engine at all (then the channel's own tax figure is kept)."""
        ...


@cache
def _engine_for(path: str) -> TaxEngine:
    return import_string(path)()


def tax_engine() -> TaxEngine:
    """The engine named by ``WAYBILL_TAX_ENGINE`` (a dotted path to a class), one
    instance per process."""
    return _engine_for(settings.WAYBILL_TAX_ENGINE)
