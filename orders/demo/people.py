"""Where the demo customers live and what they are called: real cities with their
postal codes and coordinates (so routing by distance has something to work with),
local sales tax where it is added on top, and names and streets per language."""

import unicodedata
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class City:
    name: str
    region: str
    postal_code: str
    country: str
    latitude: Decimal
    longitude: Decimal
    weight: float  # relative share of its country's orders
    sales_tax: Decimal = Decimal(0)  # added on top of prices (US, Canada)


def _city(name, region, postal_code, country, latitude, longitude, weight, sales_tax="0") -> City:
    return City(name, region, postal_code, country, Decimal(latitude), Decimal(longitude), weight, Decimal(sales_tax))


CITIES = (
    _city("New York", "NY", "10001", "US", "40.7506", "-73.9972", 9, "0.08875"),
    _city("Brooklyn", "NY", "11201", "US", "40.6943", "-73.9903", 5, "0.08875"),
    _city("Boston", "MA", "02110", "US", "42.3601", "-71.0589", 4, "0.0625"),
    _city("Philadelphia", "PA", "19103", "US", "39.9526", "-75.1652", 4, "0.08"),
    _city("Washington", "DC", "20001", "US", "38.9072", "-77.0369", 3, "0.06"),
    _city("Burlington", "VT", "05401", "US", "44.4759", "-73.2121", 1, "0.07"),
    _city("Asheville", "NC", "28801", "US", "35.5951", "-82.5515", 1, "0.07"),
    _city("Atlanta", "GA", "30303", "US", "33.7490", "-84.3880", 3, "0.089"),
    _city("Miami", "FL", "33130", "US", "25.7617", "-80.1918", 3, "0.07"),
    _city("Chicago", "IL", "60601", "US", "41.8781", "-87.6298", 5, "0.1025"),
    _city("Minneapolis", "MN", "55401", "US", "44.9778", "-93.2650", 2, "0.08025"),
    _city("Denver", "CO", "80202", "US", "39.7392", "-104.9903", 4, "0.0881"),
    _city("Austin", "TX", "78701", "US", "30.2672", "-97.7431", 3, "0.0825"),
    _city("Houston", "TX", "77002", "US", "29.7604", "-95.3698", 3, "0.0825"),
    _city("Phoenix", "AZ", "85004", "US", "33.4484", "-112.0740", 2, "0.086"),
    _city("Salt Lake City", "UT", "84101", "US", "40.7608", "-111.8910", 2, "0.0775"),
    _city("Boise", "ID", "83702", "US", "43.6150", "-116.2023", 1, "0.06"),
    _city("Seattle", "WA", "98101", "US", "47.6062", "-122.3321", 5, "0.1035"),
    _city("Portland", "OR", "97204", "US", "45.5152", "-122.6784", 4, "0"),
    _city("San Francisco", "CA", "94103", "US", "37.7749", "-122.4194", 5, "0.08625"),
    _city("Los Angeles", "CA", "90012", "US", "34.0522", "-118.2437", 6, "0.095"),
    _city("San Diego", "CA", "92101", "US", "32.7157", "-117.1611", 3, "0.0775"),
    _city("Toronto", "ON", "M5H 2N2", "CA", "43.6532", "-79.3832", 5, "0.13"),
    _city("Vancouver", "BC", "V6B 1A1", "CA", "49.2827", "-123.1207", 3, "0.12"),
    _city("Montréal", "QC", "H2Y 1C6", "CA", "45.5019", "-73.5674", 3, "0.14975"),
    _city("London", "", "EC1A 1BB", "GB", "51.5072", "-0.1276", 4),
    _city("Manchester", "", "M1 1AE", "GB", "53.4808", "-2.2426", 2),
    _city("Stockholm", "", "111 20", "SE", "59.3293", "18.0686", 8),
    _city("Göteborg", "", "411 03", "SE", "57.7089", "11.9746", 4),
    _city("Malmö", "", "211 20", "SE", "55.6050", "13.0038", 4),
    _city("Uppsala", "", "753 20", "SE", "59.8586", "17.6389", 2),
    _city("København", "", "1050", "DK", "55.6761", "12.5683", 5),
    _city("Aarhus", "", "8000", "DK", "56.1629", "10.2039", 2),
    _city("Oslo", "", "0150", "NO", "59.9139", "10.7522", 4),
    _city("Bergen", "", "5003", "NO", "60.3913", "5.3221", 1),
    _city("Helsinki", "", "00100", "FI", "60.1699", "24.9384", 4),
    _city("Berlin", "", "10115", "DE", "52.5200", "13.4050", 6),
    _city("Hamburg", "", "20095", "DE", "53.5511", "9.9937", 4),
    _city("München", "", "80331", "DE", "48.1351", "11.5820", 4),
    _city("Köln", "", "50667", "DE", "50.9375", "6.9603", 3),
    _city("Amsterdam", "", "1012 JS", "NL", "52.3676", "4.9041", 5),
    _city("Utrecht", "", "3511 LX", "NL", "52.0907", "5.1214", 2),
    _city("Paris", "", "75001", "FR", "48.8566", "2.3522", 5),
    _city("Lyon", "", "69002", "FR", "45.7640", "4.8357", 2),
    _city("Wien", "", "1010", "AT", "48.2082", "16.3738", 3),
    _city("Zürich", "", "8001", "CH", "47.3769", "8.5417", 3),
)


def _words(names: dict[str, str | tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Space-separated lists are easier to read; names with spaces come as tuples."""
    return {language: tuple(v.split()) if isinstance(v, str) else v for language, v in names.items()}


FIRST_NAMES = _words(
    {
        "en": (
            "James Mary Robert Patricia Michael Jennifer David Linda William Elizabeth Daniel Sarah Matthew Jessica "
            "Anthony Karen Mark Nancy Joshua Emily Andrew Ashley Ryan Megan Jordan Olivia Ethan Chloe Noah Grace"
        ),
        "sv": "Erik Anna Lars Maria Karl Eva Johan Karin Anders Sara Per Emma Nils Elin Oskar Ida Axel Maja Hugo",
        "da": "Mads Sofie Frederik Ida Rasmus Freja Christian Anne Mikkel Laura",
        "no": "Ole Ingrid Henrik Nora Sindre Kari Magnus Silje",
        "fi": "Mikko Aino Juha Emilia Antti Helmi Ville Sanna",
        "de": "Lukas Anna Jonas Lea Felix Hannah Leon Sophie Paul Marie Maximilian Laura Tobias Julia Niklas Katharina",
        "nl": "Daan Emma Sem Julia Lucas Tess Bram Sanne Thijs Fleur",
        "fr": "Louis Camille Hugo Léa Jules Manon Arthur Chloé Gabriel Inès",
    }
)

LAST_NAMES = _words(
    {
        "en": (
            "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson Taylor Thomas "
            "Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Young Allen King Wright Scott Nguyen"
        ),
        "sv": "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson Lindberg Berg",
        "da": "Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen",
        "no": "Hansen Johansen Olsen Larsen Andersen Berg Haugen Bakken",
        "fi": "Korhonen Virtanen Mäkinen Nieminen Mäkelä Hämäläinen Laine Heikkinen",
        "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter",
        "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer"),
        "fr": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau",
    }
)

STREETS = {
    "en": (
        "Maple Street",
        "Oak Avenue",
        "Pine Street",
        "Cedar Lane",
        "Elm Street",
        "Washington Avenue",
        "Lake Drive",
        "Hillcrest Road",
        "Park Place",
        "Sunset Boulevard",
        "River Road",
        "Highland Avenue",
    ),
    "sv": ("Storgatan", "Drottninggatan", "Kungsgatan", "Vasagatan", "Skolgatan", "Södra Förstadsgatan"),
    "da": ("Nørregade", "Vesterbrogade", "Østergade", "Strandvejen"),
    "no": ("Storgata", "Kirkegata", "Thorvald Meyers gate", "Bogstadveien"),
    "fi": ("Mannerheimintie", "Aleksanterinkatu", "Hämeentie", "Fredrikinkatu"),
    "de": ("Hauptstraße", "Schillerstraße", "Goethestraße", "Bahnhofstraße", "Lindenallee", "Gartenweg"),
    "nl": ("Keizersgracht", "Prinsengracht", "Oudegracht", "Dorpsstraat", "Kerkstraat"),
    "fr": ("Rue de la République", "Rue Victor Hugo", "Avenue Jean Jaurès", "Rue de la Paix"),
}

LANGUAGE_BY_COUNTRY = {
    "US": "en",
    "CA": "en",
    "GB": "en",
    "SE": "sv",
    "DK": "da",
    "NO": "no",
    "FI": "fi",
    "DE": "de",
    "AT": "de",
    "CH": "de",
    "NL": "nl",
    "BE": "nl",
    "FR": "fr",
}

EMAIL_DOMAINS = {
    "en": ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me"),
    "sv": ("gmail.com", "telia.com", "outlook.com", "icloud.com"),
    "da": ("gmail.com", "hotmail.dk", "outlook.com"),
    "no": ("gmail.com", "online.no", "outlook.com"),
    "fi": ("gmail.com", "outlook.com", "elisanet.fi"),
    "de": ("gmail.com", "web.de", "gmx.de", "t-online.de"),
    "nl": ("gmail.com", "ziggo.nl", "outlook.com"),
    "fr": ("gmail.com", "orange.fr", "free.fr"),
}

# Street number before the street name in these languages, after it elsewhere.
NUMBER_FIRST = frozenset({"en", "fr"})


def ascii_slug(text: str) -> str:
    """'Sørensen' → 'sorensen', 'de Jong' → 'dejong': safe for the local part of an email."""
    folded = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()


def street_address(language: str, street: str, number: int) -> str:
    return f"{number} {street}" if language in NUMBER_FIRST else f"{street} {number}"
