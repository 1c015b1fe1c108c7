"""The sales report per currency in the seller's base currency, over the API and in
the admin."""

import io
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actor import Actor
from orders.finance.services.exchange import exchange_rates_load
from orders.services import LineInput, order_cancel, order_place
from sellers.models import ApiScope, StaffRole
from tests.conftest import client_for
from tests.factories import MembershipFactory, SellerFactory, order_input
from tests.finance.helpers import shop

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/sales/"
REPORT = reverse("admin:finance_salesreport_changelist")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def rates():
    exchange_rates_load(
        stream=io.StringIO(
            "date,base_currency,quote_currency,rate\n"
            "2025-01-02,EUR,USD,1.10\n"
            "2025-01-02,EUR,SEK,11.00\n"
            "2025-02-03,EUR,USD,1.20\n"
        ),
        source="ECB",
    )


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK)


@pytest.fixture
def seller():
    seller = shop(products={"MUG": ("10.00", "standard")})
    seller.timezone = "America/New_York"
    seller.save()
    return seller


def sell(seller, currency: str, unit_price: str, *, when: datetime, quantity: int = 1, tax: str = "0"):
    data = replace(
        order_input([], currency=currency, placed_at=when, tax_total=Decimal(tax)),
        lines=[LineInput(sku="MUG", quantity=quantity, unit_price=Decimal(unit_price))],
    )
    return order_place(seller=seller, data=data, actor=Actor.system("test"))


@pytest.fixture
def january(seller, rates):
    sell(seller, "USD", "10.00", when=at(date(2025, 1, 10)), tax="0.80")
    sell(seller, "USD", "20.00", when=at(date(2025, 1, 20)), tax="1.60")
    sell(seller, "EUR", "50.00", when=at(date(2025, 1, 15)), tax="9.50")
    sell(seller, "SEK", "300", when=at(date(2025, 1, 31), hour=23))  # late on the 31st in New York
    sell(seller, "JPY", "1500", when=at(date(2025, 1, 5)))
    cancelled = sell(seller, "USD", "99.00", when=at(date(2025, 1, 6)))
    order_cancel(seller_id=seller.pk, order_id=cancelled.pk, actor=Actor.system("test"))
    sell(
        seller,
        "USD",
        "70.00",
        when=at(
            date(
                2025,
                2,
                1,
            ),
            hour=0,
        ),
    )  # February in New York
    return seller


def test_the_report_converts_each_currency_and_states_the_rate(january):
    response = client_for(january).get(URL, {"from": "2025-01-01", "to": "2025-01-31"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from"], body["to"], body["rate_date"], body["orders"]) == (
        "2025-01-01",
        "2025-01-31",
        "2025-01-31",
        5,
    )
    rows = {row["currency"]: row for row in body["rows"]}
    assert list(rows) == ["EUR", "JPY", "SEK", "USD"]
    assert rows["USD"]["orders"] == 2  # the cancelled one and February's are left out
    assert rows["USD"]["gross"] == {"amount": "32.40", "currency": "USD"}
    assert rows["USD"]["rate"]["via"] == "same"
    eur = rows["EUR"]
    assert (eur["gross"], eur["tax"], eur["net"]) == (
        {"amount": "59.50", "currency": "EUR"},
        {"amount": "9.50", "currency": "EUR"},
        {"amount": "50.00", "currency": "EUR"},
    )
    assert Decimal(eur["rate"]["rate"]) == Decimal("1.1")
    assert eur["rate"] | {"rate": None} == {
        "rate": None,
        "date": "2025-01-02",
        "source": "ECB",
        "via": "direct",
        "quoted_against": "EUR",
        "stored": "1 EUR = 1.1 USD",
    }
    assert eur["converted"] == {
        "gross": {"amount": "65.45", "currency": "USD"},
        "tax": {"amount": "10.45", "currency": "USD"},
        "net": {"amount": "55.00", "currency": "USD"},
    }
    assert rows["SEK"]["converted"]["gross"] == {"amount": "30.00", "currency": "USD"}  # 300 × 1.10 / 11.00
    assert rows["SEK"]["rate"]["via"] == "cross"
    assert rows["JPY"]["convertible"] is False
    assert (rows["JPY"]["rate"], rows["JPY"]["converted"]) == (None, None)
    assert body["not_convertible"] == ["JPY"] and body["complete"] is False
    assert body["gross"] == {"amount": "127.85", "currency": "USD"}  # 32.40 + 65.45 + 30.00, JPY left out
    assert body["tax"] == {"amount": "12.85", "currency": "USD"}


def test_another_rate_date_uses_the_rates_valid_then(january):
    body = client_for(january).get(URL, {"from": "2025-01-01", "to": "2025-01-31", "rate_date": "2025-02-03"}).json()

    eur = next(row for row in body["rows"] if row["currency"] == "EUR")
    assert (eur["rate"]["date"], eur["converted"]["gross"]["amount"]) == ("2025-02-03", "71.40")


def test_the_report_is_one_grouped_query_however_many_orders(seller, rates):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            client_for(seller).get(URL, {"from": "2025-01-01", "to": "2025-01-31"})
        return len([q for q in captured.captured_queries if "orders_order" in q["sql"]])

    sell(seller, "EUR", "10.00", when=at(date(2025, 1, 3)))
    one = queries()
    for day in range(4, 24):
        sell(seller, "EUR", "10.00", when=at(date(2025, 1, day)))

    assert one == queries() == 1


def test_only_the_keys_seller_is_reported(january):
    other = SellerFactory()

    body = client_for(other).get(URL, {"from": "2025-01-01", "to": "2025-01-31"}).json()

    assert (body["orders"], body["rows"], body["complete"]) == (0, [], True)
    assert body["gross"] == {"amount": "0.00", "currency": "USD"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"to": "2025-01-31"}, "from"),
        ({"from": "2025-01-01"}, "to"),
        ({"from": "2025-02-30", "to": "2025-03-01"}, "from"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
        ({"from": "2000-01-01", "to": "2025-01-01"}, "to"),
    ],
)
def test_a_bad_period_is_a_400(seller, params, field):
    response = client_for(seller).get(URL, params)

    assert response.status_code == 400
    assert field in response.json()["details"]


def test_the_report_needs_the_orders_read_scope(seller):
    response = client_for(seller, scopes=[ApiScope.PRODUCTS_READ]).get(URL, {"from": "2025-01-01", "to": "2025-01-31"})

    assert response.status_code == 403


def test_the_admin_report_shows_the_users_seller_with_rates_and_what_is_not_convertible(client, january):
    other = SellerFactory(name="Someone Else")
    client.force_login(MembershipFactory(seller=january, role=StaffRole.VIEWER).user)

    response = client.get(REPORT, {"seller": january.pk, "date_from": "2025-01-01", "date_to": "2025-01-31"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "1 EUR = 1.1 USD" in html and "direct: 1 EUR = 1.1 USD on 2025-01-02" in html and "source: ECB" in html
    assert "1 SEK = 0.1 USD" in html and "cross: 1 EUR = 11 SEK, 1 EUR = 1.1 USD on 2025-01-02" in html
    assert "Not convertible: no JPY/USD rate stored" in html
    assert "Without JPY (not convertible)" in html
    assert list(response.context["form"].fields["seller"].queryset) == [january]
    refused = client.get(REPORT, {"seller": other.pk, "date_from": "2025-01-01", "date_to": "2025-01-31"})
    assert refused.context["report"] is None and "seller" in refused.context["form"].errors


def test_the_report_is_on_the_admin_index(client, seller):
    client.force_login(MembershipFactory(seller=seller, role=StaffRole.VIEWER).user)

    index = client.get(reverse("admin:index")).content.decode()

    assert REPORT in index
    assert client.get(REPORT).status_code == 200


def test_staff_without_a_membership_cannot_open_the_report(client):
    client.force_login(MembershipFactory().user.__class__.objects.create(username="nobody", is_staff=True))

    assert client.get(REPORT).status_code == 403


def test_the_report_form_starts_on_this_month(client, seller):
    client.force_login(MembershipFactory(seller=seller).user)

    response = client.get(REPORT)

    assert response.context["report"] is None
    initial = response.context["form"].initial
    assert initial["date_from"].day == 1 and initial["date_to"] >= initial["date_from"]


def test_a_period_beyond_the_calendar_is_a_400_not_a_500(api):
    response = api.get("/api/v1/reports/sales/", {"from": "9999-12-31", "to": "9999-12-31"})

    assert response.status_code == 400 and "from" in response.json()["details"]
