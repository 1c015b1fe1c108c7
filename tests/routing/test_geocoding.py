import pytest

from inventory.geocoding import destination_locate
from inventory.routing.base import Demand, Destination
from tests.routing.helpers import route, warehouse


@pytest.mark.parametrize(
    ("country", "postal_code", "city", "expected", "source"),
    [
        ("US", "02110", "", (42.36, -71.05), "postal_code"),
        ("US", "89501-2311", "", (39.53, -119.81), "postal_code"),
        ("US", "10001", "", (40.75, -73.99), "postal_code"),
        ("US", "94103", "anything", (37.77, -122.41), "postal_code"),
        ("us", "99999", "Boston", (42.36, -71.06), "city"),
        ("DE", "80331", "MÜNCHEN", (48.14, 11.58), "city"),
        ("DE", "", "Munchen", (48.14, 11.58), "city"),
        ("FR", "", "Saint-Étienne", (45.43, 4.39), "city"),
        ("JP", "", "tokyo", (35.69, 139.69), "city"),
        ("BR", "", "São Paulo", (-23.55, -46.64), "city"),
        ("GB", "", "London", (51.51, -0.13), "city"),
    ],
)
def test_known_places_are_located_offline(country, postal_code, city, expected, source):
    latitude, longitude, found_by = destination_locate(country, postal_code, city)

    assert abs(float(latitude) - expected[0]) < 0.5
    assert abs(float(longitude) - expected[1]) < 0.5
    assert found_by == source


@pytest.mark.parametrize(
    ("country", "postal_code", "city"),
    [("US", "00000", ""), ("XX", "", "Nowhere"), ("CA", "", "Atlantis"), ("US", "", ""), ("CA", "02110", "")],
)
def test_an_unknown_place_is_none_and_the_plan_says_why(country, postal_code, city):
    assert destination_locate(country, postal_code, city) is None

    plan = route(
        "optimal",
        [Demand(10, 1)],
        [warehouse(1, 42.0, -71.0, priority=2), warehouse(2, 39.5, -119.8, priority=1)],
        {(10, 1): 1, (10, 2): 1},
        destination=Destination(country=country, postal_code=postal_code),
    )
    assert plan.warehouse_ids == {2}
    assert "could not be located" in plan.reason
