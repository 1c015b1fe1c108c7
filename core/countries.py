"""Country codes, checked against ISO 3166-1 (pycountry ships the table: no network)."""

import pycountry


def is_country_code(code: str) -> bool:
    return len(code) == 2 and code.isupper() and pycountry.countries.get(alpha_2=code) is not None
