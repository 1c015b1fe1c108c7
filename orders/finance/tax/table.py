"""The built-in tax engine: the seller's own ``TaxRate`` table.

For each charge it takes the rate for the charge's tax class in the destination's
region, else the country-wide one; a class with no rate of its own at the destination
pays the destination's standard rate (the usual VAT rule: reduced rates are the
exception). A destination with no rate at all is not taxed (an export, a state where
the seller does not collect). A seller with no rates anywhere gets None: Waybill does
not tax for them and keeps the channel's figure.
"""

from decimal import Decimal

from core.money import zero
from orders.finance.models import STANDARD_TAX_CLASS, TaxRate
from orders.finance.selectors import tax_rates_at
from orders.finance.tax.base import TaxableCharge, TaxedCharge, TaxQuote, TaxRequest
from orders.finance.tax.calculation import tax_on


class RateTable:
    """The rates valid at one destination on one day, keyed by (region, tax class)."""

    def __init__(self, rates: list[TaxRate], region: str):
        self.region = region.strip().upper()
        self.by_key: dict[tuple[str, str], TaxRate] = {}
        # Several rows for one key (periods that touch) are ordered by start: the latest wins.
        for rate in sorted(rates, key=lambda r: (r.valid_from is not None, r.valid_from)):
            self.by_key[(rate.region.strip().upper(), rate.tax_class)] = rate
        self.regional_used = False

    def find(self, tax_class: str) -> TaxRate | None:
        for candidate_class in (tax_class, STANDARD_TAX_CLASS):
            if self.region and (rate := self.by_key.get((self.region, candidate_class))):
                self.regional_used = True
                return rate
            if rate := self.by_key.get(("", candidate_class)):
                return rate
        return None


def _taxed(charge: TaxableCharge, rate: TaxRate | None, *, inclusive: bool) -> TaxedCharge:
    if rate is None:
        return TaxedCharge(rate=Decimal(0), tax=zero(str(charge.amount.currency)))
    return TaxedCharge(
        rate=rate.rate,
        tax=tax_on(charge.amount, rate.rate, inclusive=inclusive),
        name=rate.name,
    )


def quote_from_rates(request: TaxRequest, rates: list[TaxRate]) -> TaxQuote:
    """The quote for ``request`` from the rates valid at its destination on its day."""
    table = RateTable(rates, request.region)
    inclusive = request.prices_include_tax
    lines = tuple(_taxed(charge, table.find(charge.tax_class), inclusive=inclusive) for charge in request.lines)
    shipping = _taxed(request.shipping, table.find(STANDARD_TAX_CLASS), inclusive=inclusive)
    if not rates:
        jurisdiction = ""
    elif table.regional_used:
        jurisdiction = f"{request.country}-{table.region}"
    else:
        jurisdiction = request.country
    return TaxQuote(lines=lines, shipping=shipping, jurisdiction=jurisdiction)


class TableTaxEngine:
    name = "table"

    def quote(self, request: TaxRequest) -> TaxQuote | None:
        rates = tax_rates_at(seller_id=request.seller_id, country=request.country, on=request.on)
        return None if rates is None else quote_from_rates(request, rates)
