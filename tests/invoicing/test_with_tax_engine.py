"""Invoices of orders taxed by the real tax computation at placement (the seller's
TaxRate table): lines at their own rates after their discount share, shipping at the
standard rate, nothing left to adjust, and the invoice equal to the order."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.actor import Actor
from orders.finance.tax.base import TAX_METADATA_KEY
from orders.invoicing.models import InvoiceLine, InvoiceTaxLine
from orders.invoicing.services import credit_note_issue, invoice_issue
from orders.invoicing.snapshots import TAX_BREAKDOWN_KEY
from tests.factories import place
from tests.finance.helpers import BERLIN, rate, shop

pytestmark = pytest.mark.django_db


def test_the_breakdown_key_is_the_one_placement_writes():
    assert TAX_BREAKDOWN_KEY == TAX_METADATA_KEY


@pytest.mark.parametrize("inclusive", [False, True])
def test_an_invoice_of_a_taxed_order_matches_it_line_by_line(inclusive):
    seller = shop(
        currency="EUR", inclusive=inclusive, products={"LAMP": ("119.00", "standard"), "BOOK": ("21.40", "reduced")}
    )
    rate(seller, "DE", "0.19", name="MwSt 19 %")
    rate(seller, "DE", "0.07", tax_class="reduced", name="MwSt 7 %")
    order = place(
        seller,
        [("LAMP", 1), ("BOOK", 2)],
        currency="EUR",
        shipping_address=BERLIN,
        shipping_total=Decimal("4.90"),
        discount_total=Decimal("10.00"),
        tax_total=None,
    )
    assert order.tax_total.amount > 0 and TAX_METADATA_KEY in order.metadata

    invoice = invoice_issue(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("test")).document

    assert (invoice.total, invoice.tax_total) == (order.total, order.tax_total)
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    assert [ln.kind for ln in lines] == ["product", "product", "shipping"]
    order_lines = list(order.lines.order_by("position"))
    for line, order_line in zip(lines, order_lines, strict=False):
        assert (line.tax_rate, line.tax_amount) == (order_line.tax_rate, order_line.tax_amount)
        assert line.net_amount + line.tax_amount == line.gross_amount
    assert lines[2].tax_rate == Decimal("0.19")
    summary = {row.tax_rate: row for row in InvoiceTaxLine.objects.filter(invoice=invoice)}
    assert set(summary) == {Decimal("0.07"), Decimal("0.19")}
    for row in summary.values():
        # Tax per rate is the rate on the net, up to the per-line rounding.
        assert abs(row.net_amount.amount * row.tax_rate - row.tax_amount.amount) <= Decimal("0.02")

    note = credit_note_issue(
        seller_id=seller.pk,
        order_id=order.pk,
        amount=invoice.total,
        refund_reference="re_full",
        actor=Actor.system("test"),
    ).document
    assert (note.net_total, note.tax_total, note.total) == (invoice.net_total, invoice.tax_total, invoice.total)
    assert note.total == Money(order.total.amount, "EUR")
