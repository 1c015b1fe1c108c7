"""Reads for tax and currencies."""

from datetime import date

from django.db.models import Q, Subquery

from orders.finance.models import TaxRate


def _valid_on(on: date) -> Q:
    return (Q(valid_from__isnull=True) | Q(valid_from__lte=on)) & (Q(valid_until__isnull=True) | Q(valid_until__gte=on))


def tax_rates_at(*, seller_id: int, country: str, on: date) -> list[TaxRate] | None:
    """The seller's rates for ``country`` valid on ``on`` (every region and class), or
    None when the seller has no tax rates at all. One query: the seller's first rate
    comes along to tell "no rates here" from "no rates anywhere"."""
    first = TaxRate.objects.filter(seller_id=seller_id).order_by("pk").values("pk")[:1]
    rows = list(
        TaxRate.objects.filter(seller_id=seller_id).filter((Q(country=country) & _valid_on(on)) | Q(pk=Subquery(first)))
    )
    if not rows:
        return None
    return [
        rate
        for rate in rows
        if rate.country == country
        and (rate.valid_from is None or rate.valid_from <= on)
        and (rate.valid_until is None or rate.valid_until >= on)
    ]
