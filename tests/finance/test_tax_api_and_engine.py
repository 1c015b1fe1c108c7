"""Tax through the HTTP API, and a tax engine plugged in by setting."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from core.models import OutboxEvent
from orders.finance.tax.base import TaxedCharge, TaxQuote, TaxRequest
from orders.models import Order
from orders.services import AddressInput
from tests.conftest import client_for
from tests.factories import order_body, place
from tests.finance.helpers import BERLIN, NEW_YORK, rate, shop

pytestmark = pytest.mark.django_db

NY_ADDRESS = {
    "name": "Ada",
    "line1": "350 5th Ave",
    "city": "New York",
    "region": "ny",
    "postal_code": "10118",
    "country": "US",
}


@pytest.fixture
def taxed_shop():
    seller = shop(products={"MUG": ("10.00", "standard")})
    rate(seller, "US", "0.08875", region="NY", name="NY sales tax")
    return seller


def test_the_api_shows_the_computed_tax_per_line(taxed_shop):
    api = client_for(taxed_shop)

    response = api.post(
        "/api/v1/orders/", order_body([("MUG", 2)], shipping_address=NY_ADDRESS, shipping_total="5.00"), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["lines"][0]["tax_class"] == "standard"
    assert Decimal(body["lines"][0]["tax_rate"]) == Decimal("0.08875")
    assert body["lines"][0]["tax_amount"] == {"amount": "1.78", "currency": "USD"}  # 20.00 × 8.875 % = 1.775
    assert body["tax_total"] == {"amount": "2.22", "currency": "USD"}  # + 5.00 × 8.875 % = 0.44
    assert body["total"] == {"amount": "27.22", "currency": "USD"}
    assert body["metadata"]["waybill_tax"]["jurisdiction"] == "US-NY"
    assert api.get(response["Location"]).json()["tax_total"] == body["tax_total"]


def test_a_stated_tax_total_that_disagrees_is_a_400_on_tax_total_and_writes_nothing(taxed_shop):
    api = client_for(taxed_shop)

    response = api.post(
        "/api/v1/orders/", order_body([("MUG", 2)], shipping_address=NY_ADDRESS, tax_total="0.00"), format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["details"]) == ["tax_total"]
    assert not Order.objects.exists()
    assert not OutboxEvent.objects.filter(topic__startswith="order.").exists()


def test_a_stated_tax_total_that_agrees_is_accepted(taxed_shop):
    api = client_for(taxed_shop)

    response = api.post(
        "/api/v1/orders/", order_body([("MUG", 2)], shipping_address=NY_ADDRESS, tax_total="1.78"), format="json"
    )

    assert response.status_code == 201, response.content


class FlatFivePercentEngine:
    """An external engine as a seller might plug one in: 5 % on everything."""

    name = "flat-five"
    calls: list[TaxRequest] = []

    def quote(self, request: TaxRequest) -> TaxQuote:
        self.calls.append(request)

        def taxed(charge):
            return TaxedCharge(
                rate=Decimal("0.05"),
                tax=Money((charge.amount.amount * Decimal("0.05")).quantize(Decimal("0.01")), request.currency),
                name="Flat",
            )

        return TaxQuote(
            lines=tuple(taxed(c) for c in request.lines), shipping=taxed(request.shipping), jurisdiction="flat"
        )


class BrokenEngine:
    name = "broken"

    def quote(self, request: TaxRequest) -> TaxQuote:
        return TaxQuote(lines=(), shipping=TaxedCharge(rate=Decimal("2"), tax=Money("0.001", "EUR")), jurisdiction="?")


def test_the_configured_engine_computes_the_tax(settings):
    settings.WAYBILL_TAX_ENGINE = f"{__name__}.FlatFivePercentEngine"
    seller = shop(products={"MUG": ("10.00", "standard")})  # no rates of its own: the engine decides

    order = place(seller, [("MUG", 3)], shipping_address=BERLIN, shipping_total=Decimal("4.00"), tax_total=None)

    assert str(order.tax_total.amount) == "1.70"
    assert order.metadata["waybill_tax"]["engine"] == "flat-five"
    request = FlatFivePercentEngine.calls[-1]
    assert (request.country, request.currency, request.lines[0].amount) == ("DE", "USD", Money("30.00", "USD"))


def test_an_engine_answer_that_does_not_fit_refuses_the_order_and_writes_nothing(settings, taxed_shop):
    settings.WAYBILL_TAX_ENGINE = f"{__name__}.BrokenEngine"
    api = client_for(taxed_shop)

    response = api.post("/api/v1/orders/", order_body([("MUG", 1)], shipping_address=NY_ADDRESS), format="json")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "tax_engine_error"
    assert any("1 lines" in problem for problem in body["details"]["problems"])
    assert not Order.objects.exists()


def test_lowercase_regions_match(taxed_shop):
    address = AddressInput(**{**NEW_YORK.as_dict(), "region": " ny "})

    order = place(taxed_shop, [("MUG", 1)], shipping_address=address, tax_total=None)

    assert order.lines.get().tax_rate == Decimal("0.08875")
