"""Real threads, each with its own PostgreSQL connection, issuing invoices at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.actor import Actor
from orders.invoicing.models import Invoice
from orders.invoicing.services import invoice_issue
from orders.models import EventType, OrderEvent
from sellers.models import SellerSequence
from tests.conftest import run_at_once
from tests.invoicing.conftest import make_shop, placed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_20_concurrent_issues_for_one_seller_get_20_consecutive_numbers():
    seller = make_shop()
    orders = [placed(seller, [("MUG", 1)]) for _ in range(20)]

    def issue(index):
        order = orders[index]
        return invoice_issue(seller_id=seller.pk, order_id=order.pk, actor=Actor.system(f"thread {index}")).document

    results, errors = run_at_once(20, issue)

    assert errors == []
    numbers = sorted(invoice.number for invoice in results)
    assert numbers == list(range(1, 21))
    stored = Invoice.objects.filter(seller=seller)
    assert sorted(stored.values_list("number", flat=True)) == list(range(1, 21))
    assert sorted(stored.values_list("order_id", flat=True)) == sorted(order.pk for order in orders)
    assert SellerSequence.objects.get(seller=seller, name="invoice").last_value == 20
    assert OrderEvent.objects.filter(seller=seller, type=EventType.INVOICE_ISSUED).count() == 20


def test_10_concurrent_issues_for_one_order_make_one_invoice():
    seller = make_shop()
    order = placed(seller, [("MUG", 2)])

    results, errors = run_at_once(
        10, lambda index: invoice_issue(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("race"))
    )

    assert errors == []
    assert sum(result.created for result in results) == 1
    assert {result.document.pk for result in results} == {Invoice.objects.get(order=order).pk}
    assert Invoice.objects.get(order=order).number == 1
    assert SellerSequence.objects.get(seller=seller, name="invoice").last_value == 1
    assert OrderEvent.objects.filter(order=order, type=EventType.INVOICE_ISSUED).count() == 1


def test_two_sellers_number_independently_while_racing():
    first, second = make_shop("First"), make_shop("Second")
    orders = [placed(first, [("MUG", 1)]) for _ in range(5)] + [placed(second, [("MUG", 1)]) for _ in range(5)]

    results, errors = run_at_once(
        10,
        lambda index: (
            invoice_issue(
                seller_id=orders[index].seller_id, order_id=orders[index].pk, actor=Actor.system("race")
            ).document
        ),
    )

    assert errors == []
    for seller in (first, second):
        assert sorted(Invoice.objects.filter(seller=seller).values_list("number", flat=True)) == [1, 2, 3, 4, 5]


def test_the_number_is_taken_after_the_order_lock_and_before_the_insert():
    seller = make_shop()
    order = placed(seller, [("MUG", 1)])

    with CaptureQueriesContext(connection) as queries:
        invoice_issue(seller_id=seller.pk, order_id=order.pk, actor=Actor.system("test"))

    sql = [q["sql"] for q in queries.captured_queries]
    lock = next(i for i, s in enumerate(sql) if '"orders_order"' in s and "FOR UPDATE" in s)
    number = next(i for i, s in enumerate(sql) if "UPDATE sellers_sellersequence" in s)
    insert = next(i for i, s in enumerate(sql) if s.startswith('INSERT INTO "invoicing_invoice"'))
    assert lock < number < insert
