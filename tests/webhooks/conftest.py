import pytest

from orders.services.webhook_subscriptions import WebhookSubscriptionInput, webhook_subscription_create
from tests.factories import ProductFactory, WarehouseFactory, stocked
from tests.webhooks.receiver import start_receiver


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def mug(seller):
    product = ProductFactory(seller=seller, sku="MUG", name="Enamel mug")
    stocked(product, WarehouseFactory(seller=seller), 50)
    return product


def subscribe(seller, url: str, topics=("order.created",), is_active=True):
    return webhook_subscription_create(
        seller=seller, data=WebhookSubscriptionInput(url=url, topics=list(topics), is_active=is_active)
    )
