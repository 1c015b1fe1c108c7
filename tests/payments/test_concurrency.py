"""Two refunds racing for the same money: the payment's row lock lets one through and
refuses the other, on PostgreSQL with real threads."""

import threading

import pytest
from django.db import connection

from core.actor import Actor
from core.exceptions import ApplicationError
from orders.payments.models import Payment, Refund
from orders.payments.services import RefundInput, payment_capture, refund_request
from tests.conftest import client_for
from tests.factories import ProductFactory, SellerFactory, WarehouseFactory, stocked
from tests.payments.conftest import authorize, place_paid

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_refunds_of_everything_at_once_refund_once(sandbox, storefront):
    seller = SellerFactory()
    stocked(ProductFactory(seller=seller, sku="MUG"), WarehouseFactory(seller=seller), 5)
    order = place_paid(client_for(seller), [("MUG", 1)], authorize(storefront, seller, amount=1000))
    payment = Payment.objects.get(order_id=order["id"])
    payment_capture(payment_id=payment.pk, actor=Actor.system("test"))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund_all():
        try:
            barrier.wait()
            refund_request(
                seller_id=seller.pk, order_id=order["id"], data=RefundInput(amount=None), actor=Actor.system("t")
            )
            outcomes.append("created")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refund_all) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["created", "refund_exceeds_captured"]
    assert Refund.objects.count() == 1
