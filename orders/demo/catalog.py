"""The demo sellers: who they are, where their warehouses stand, what they sell and
through which channels. Static data only; ``history`` decides what happens to it.

Products are listed best seller first: their popularity falls off with the position
(a Zipf curve), so the first few sell every day and the last ones now and then.
"""

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from orders.demo.people import CITIES


def ean13(first_twelve: str) -> str:
    """Append the GS1 check digit: weights 1 and 3 alternate from the left."""
    if len(first_twelve) != 12 or not first_twelve.isdigit():
        raise ValueError(f"EAN-13 needs 12 digits before the check digit, got {first_twelve!r}")
    weighted = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(first_twelve))
    return first_twelve + str((10 - weighted % 10) % 10)


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    address_line1: str
    city: str
    region: str
    postal_code: str
    country: str
    latitude: Decimal
    longitude: Decimal
    ships_to: tuple[str, ...]
    priority: int
    handling_cost: Decimal
    cutoff: time


@dataclass(frozen=True)
class ProductSpec:
    sku: str
    name: str
    price: Decimal
    weight_grams: int
    size_mm: tuple[int, int, int]
    stocked_in: tuple[str, ...]
    season: str = ""  # "winter" or "summer": sells mostly then
    launched_days_ago: int | None = None  # None: on sale for the whole year


@dataclass(frozen=True)
class TaxRateSpec:
    """A tax rate the seller charges on the standard class: a country, or one region of it."""

    country: str
    region: str
    rate: Decimal
    name: str


@dataclass(frozen=True)
class ChannelSpec:
    channel: str
    account: str
    share: float


@dataclass(frozen=True)
class SellerSpec:
    slug: str
    name: str
    base_currency: str
    country: str
    timezone: str
    support_email: str
    gs1_company_prefix: str  # 7 digits; the item reference makes 12, the check digit 13
    volume: float  # orders per day relative to --orders-per-day
    warehouses: tuple[WarehouseSpec, ...]
    products: tuple[ProductSpec, ...]
    channels: tuple[ChannelSpec, ...]
    markets: tuple[tuple[str, float], ...]  # destination country and its share of orders
    home_countries: frozenset[str]  # domestic shipping rates apply
    shipping_fee: Decimal
    international_shipping_fee: Decimal
    free_shipping_over: Decimal
    promo_codes: tuple[tuple[str, Decimal], ...]  # code and discount rate
    holiday_promo: tuple[str, Decimal]
    prices_include_tax: bool
    staff_username: str
    staff_name: tuple[str, str]
    bin_aisles: str
    tax_rates: tuple[TaxRateSpec, ...] = ()

    def barcode(self, index: int) -> str:
        return ean13(f"{self.gs1_company_prefix}{index + 1:05d}")


def _product(sku, name, price, grams, size, stocked_in, season="", launched_days_ago=None) -> ProductSpec:
    return ProductSpec(
        sku=sku,
        name=name,
        price=Decimal(price),
        weight_grams=grams,
        size_mm=size,
        stocked_in=tuple(stocked_in.split()),
        season=season,
        launched_days_ago=launched_days_ago,
    )


def _sales_tax_by_region() -> tuple[TaxRateSpec, ...]:
    """US sales tax and Canadian GST/HST/PST, one rate per state or province: its
    largest city's combined rate (in life it varies by city and county; the demo keeps
    one per region). States without sales tax (Oregon) get no rate, so no tax."""
    largest = {}
    for city in CITIES:
        key = (city.country, city.region)
        if city.country in ("US", "CA") and (key not in largest or city.weight > largest[key].weight):
            largest[key] = city
    return tuple(
        TaxRateSpec(country, region, city.sales_tax, f"{region} sales tax")
        for (country, region), city in sorted(largest.items())
        if city.sales_tax > 0
    )


def _vat(*rates: tuple[str, str]) -> tuple[TaxRateSpec, ...]:
    return tuple(
        TaxRateSpec(country, "", Decimal(rate), f"VAT {country} {(Decimal(rate) * 100).normalize():f} %")
        for country, rate in rates
    )


ALL = "NWK RNO RTM"
US = "NWK RNO"

NORTHWIND_PRODUCTS = (
    _product("NW-SOCK-MER-2P", "Merino Trail Socks, 2-pack", "24.00", 140, (200, 100, 40), ALL),
    _product("NW-BTL-750-STL", "Trailhead Insulated Bottle 750 ml", "32.00", 390, (280, 80, 80), ALL),
    _product("NW-LAMP-HD200", "Ultralight Headlamp 200 lm", "34.95", 85, (120, 80, 50), ALL),
    _product("NW-MUG-350-TI", "Titanium Camp Mug 350 ml", "29.50", 70, (95, 95, 90), ALL),
    _product("NW-SPORK-TI", "Titanium Spork", "12.95", 18, (170, 40, 15), ALL),
    _product("NW-TOWEL-TRK-L", "Quick-Dry Trek Towel, Large", "29.00", 230, (250, 150, 50), ALL),
    _product("NW-BEANIE-FLC", "Fleece Beanie, Charcoal", "24.00", 80, (230, 200, 20), ALL, season="winter"),
    _product("NW-SHELL-M-M", "Packable Rain Shell, Men's M", "129.00", 310, (300, 220, 60), ALL),
    _product("NW-SHELL-W-S", "Packable Rain Shell, Women's S", "129.00", 280, (300, 220, 60), ALL),
    _product("NW-PACK-22L", "Ridgeline Daypack 22 L", "89.00", 640, (480, 300, 120), ALL),
    _product("NW-BASE-MER-M", "Merino Base Layer Top, M", "79.00", 210, (300, 250, 30), ALL, season="winter"),
    _product("NW-GLOVE-LNR", "Touchscreen Liner Gloves", "29.00", 60, (220, 120, 15), US, season="winter"),
    _product("NW-DRYBAG-20", "Roll-Top Dry Bag 20 L", "27.00", 160, (280, 160, 40), ALL, season="summer"),
    _product("NW-DOWN-M-L", "Ridgeline Down Jacket, Men's L", "249.00", 520, (400, 300, 100), ALL, season="winter"),
    _product("NW-DOWN-W-M", "Ridgeline Down Jacket, Women's M", "249.00", 460, (400, 300, 100), US, season="winter"),
    _product("NW-POLES-CF", "Carbon Trekking Poles, Pair", "99.00", 460, (680, 120, 80), US),
    _product("NW-PACK-45L", "Summit Backpack 45 L", "179.00", 1450, (650, 350, 250), US),
    _product("NW-FAK-TRAIL", "Trail First-Aid Kit", "39.00", 300, (190, 130, 70), ALL),
    _product("NW-STOVE-MINI", "Mini Canister Stove", "59.00", 95, (110, 80, 80), "NWK", season="summer"),
    _product("NW-CAP-RUN", "Trail Running Cap", "26.00", 65, (280, 190, 110), US, season="summer"),
    _product("NW-PAD-INFL", "Inflatable Sleeping Pad", "119.00", 480, (250, 120, 120), US, season="summer"),
    _product("NW-BAG-0C", "Three-Season Sleeping Bag 0 °C", "219.00", 1100, (420, 230, 230), "NWK RTM"),
    _product("NW-TENT-2P", "Two-Person Tent, 3-Season", "329.00", 1850, (520, 180, 180), "NWK RNO", season="summer"),
    _product("NW-COMPASS-MIR", "Sighting Compass with Mirror", "32.00", 75, (100, 65, 20), "NWK"),
    _product("NW-LANTERN-SOL", "Solar Camp Lantern", "49.00", 290, (150, 150, 110), US, launched_days_ago=75),
    _product("NW-HAMMOCK-1P", "Single Camping Hammock", "69.00", 470, (220, 150, 120), "NWK", season="summer"),
    _product("NW-REPAIR-KIT", "Tent and Pad Repair Kit", "14.95", 45, (120, 80, 20), "NWK"),
    _product("NW-GAITER-WP", "Waterproof Gaiters", "45.00", 240, (300, 200, 50), "RNO"),
    _product("NW-SNOWSHOE-25", 'Snowshoes 25"', "199.00", 1900, (640, 220, 120), "RNO", season="winter"),
    _product("NW-BEARCAN", "Bear-Resistant Food Canister", "89.00", 1160, (310, 220, 220), "RNO"),
)

NORTHWIND = SellerSpec(
    slug="northwind",
    name="Northwind Outfitters",
    base_currency="USD",
    country="US",
    timezone="America/New_York",
    support_email="help@northwind-outfitters.example",
    gs1_company_prefix="0856243",
    volume=1.2,
    warehouses=(
        WarehouseSpec(
            code="NWK",
            name="Newark Fulfillment Center",
            address_line1="200 Doremus Avenue",
            city="Newark",
            region="NJ",
            postal_code="07105",
            country="US",
            latitude=Decimal("40.7357"),
            longitude=Decimal("-74.1724"),
            ships_to=("US", "CA"),
            priority=10,
            handling_cost=Decimal("2.50"),
            cutoff=time(15, 0),
        ),
        WarehouseSpec(
            code="RNO",
            name="Reno Distribution Center",
            address_line1="4950 Longley Lane",
            city="Reno",
            region="NV",
            postal_code="89502",
            country="US",
            latitude=Decimal("39.5296"),
            longitude=Decimal("-119.8138"),
            ships_to=("US", "CA"),
            priority=20,
            handling_cost=Decimal("2.80"),
            cutoff=time(14, 0),
        ),
        WarehouseSpec(
            code="RTM",
            name="Rotterdam EU Hub",
            address_line1="Waalhaven Zuidzijde 19",
            city="Rotterdam",
            region="Zuid-Holland",
            postal_code="3089 JH",
            country="NL",
            latitude=Decimal("51.9244"),
            longitude=Decimal("4.4777"),
            ships_to=("NL", "BE", "LU", "DE", "FR", "AT", "GB", "IE", "DK", "SE"),
            priority=30,
            handling_cost=Decimal("3.10"),
            cutoff=time(16, 0),
        ),
    ),
    products=NORTHWIND_PRODUCTS,
    channels=(
        ChannelSpec("storefront", "northwind-outfitters.com", 0.46),
        ChannelSpec("amazon", "amazon-us", 0.28),
        ChannelSpec("ebay", "ebay-us", 0.10),
        ChannelSpec("pos", "brooklyn-store", 0.11),
        ChannelSpec("manual", "phone-orders", 0.05),
    ),
    markets=(("US", 0.86), ("CA", 0.07), ("GB", 0.02), ("DE", 0.02), ("NL", 0.015), ("FR", 0.015)),
    home_countries=frozenset({"US"}),
    shipping_fee=Decimal("6.95"),
    international_shipping_fee=Decimal("24.00"),
    free_shipping_over=Decimal("75.00"),
    promo_codes=(("WELCOME10", Decimal("0.10")), ("TRAIL15", Decimal("0.15"))),
    holiday_promo=("BLACKFRIDAY25", Decimal("0.25")),
    prices_include_tax=False,
    staff_username="northwind",
    staff_name=("Maya", "Okafor"),
    bin_aisles="ABCDEF",
    # Sales tax where Northwind collects it; exports to Europe carry none.
    tax_rates=_sales_tax_by_region(),
)


NORDIC = "MMO RTM LEJ"

LINDQVIST_PRODUCTS = (
    _product("LQ-MUG350-FOG", "Stoneware Mug 350 ml, Fog", "24.00", 380, (120, 95, 100), NORDIC),
    _product("LQ-MUG350-MOSS", "Stoneware Mug 350 ml, Moss", "24.00", 380, (120, 95, 100), NORDIC),
    _product("LQ-NAPKIN-4-NAT", "Linen Napkins, Set of 4, Natural", "39.00", 240, (240, 160, 30), NORDIC),
    _product("LQ-TOWEL-STRIPE", "Linen Tea Towel, Stripe", "19.00", 110, (240, 160, 15), NORDIC),
    _product("LQ-CANDLE-TAPER2", "Beeswax Taper Candles, Pair", "14.00", 160, (260, 60, 25), NORDIC, season="winter"),
    _product("LQ-BOWL-15-SAND", "Hand-Thrown Bowl 15 cm, Sand", "22.00", 420, (160, 160, 70), "MMO RTM"),
    _product("LQ-BOARD-OAK-L", "Oak Serving Board, Large", "69.00", 1350, (500, 250, 25), "MMO RTM"),
    _product("LQ-CARAFE-1L", "Glass Carafe 1 l", "45.00", 520, (110, 110, 250), "MMO RTM"),
    _product("LQ-TUMBLER-4", "Tumblers, Set of 4", "39.00", 860, (200, 200, 110), "MMO RTM"),
    _product("LQ-CUSH-LIN-SAND", "Linen Cushion Cover 50×50, Sand", "35.00", 210, (300, 250, 30), NORDIC),
    _product("LQ-THROW-WOOL-GRY", "Wool Throw, Grey", "149.00", 1250, (400, 300, 90), "MMO RTM", season="winter"),
    _product("LQ-ESPR-2", "Espresso Cups, Set of 2", "29.00", 300, (170, 90, 70), "MMO RTM"),
    _product("LQ-VASE-S-WHT", "Ceramic Vase, Small, White", "49.00", 640, (130, 130, 180), "MMO"),
    _product(
        "LQ-ADVENT-BRASS", "Brass Advent Candle Holder", "89.00", 1450, (380, 100, 60), "MMO LEJ", season="winter"
    ),
    _product("LQ-CUSH-WOOL-CHR", "Wool Cushion Cover 50×50, Charcoal", "45.00", 290, (300, 250, 30), "MMO RTM"),
    _product("LQ-TEAPOT-08", "Stoneware Teapot 0.8 l", "59.00", 980, (220, 160, 150), "MMO"),
    _product("LQ-SERVERS-WAL", "Walnut Salad Servers", "34.00", 110, (300, 70, 20), "MMO RTM"),
    _product("LQ-BREAD-BASKET", "Woven Bread Basket", "32.00", 260, (300, 200, 100), "MMO"),
    _product("LQ-HOOKS-BIRCH3", "Birch Coat Hooks, Set of 3", "29.00", 180, (160, 60, 60), "MMO"),
    _product("LQ-HOLDER-IRON", "Cast-Iron Candle Holder", "39.00", 890, (110, 110, 80), "MMO LEJ", season="winter"),
    _product("LQ-PICNIC-WOOL", "Wool Picnic Blanket", "99.00", 1150, (380, 280, 90), "MMO RTM", season="summer"),
    _product("LQ-HERBPOT-3", "Terracotta Herb Pots, Set of 3", "36.00", 1700, (360, 140, 130), "MMO", season="summer"),
    _product("LQ-VASE-T-SMK", "Ceramic Vase, Tall, Smoke", "79.00", 1280, (160, 160, 320), "MMO"),
    _product("LQ-POT-ENAMEL-2", "Enamel Pot 2 l", "69.00", 1320, (280, 220, 140), "MMO LEJ"),
    _product("LQ-LANTERN-OUT", "Outdoor Lantern, Black", "79.00", 1650, (200, 200, 380), "MMO", season="summer"),
    _product("LQ-ORGANISER-ASH", "Ash Desk Organiser", "49.00", 720, (300, 120, 90), "MMO", launched_days_ago=120),
    _product("LQ-LAMP-TBL-OAK", "Table Lamp, Oak Base", "189.00", 2600, (350, 350, 520), "MMO"),
    _product("LQ-SHELF-OAK-80", "Oak Wall Shelf 80 cm", "119.00", 3900, (820, 220, 60), "MMO"),
    _product("LQ-PENDANT-OPAL30", "Opal Pendant Lamp Ø30 cm", "229.00", 2100, (340, 340, 330), "MMO"),
    _product("LQ-DOORMAT-COIR", "Coir Doormat 50×80", "39.00", 2300, (800, 500, 25), "LEJ"),
)

LINDQVIST = SellerSpec(
    slug="lindqvist",
    name="Lindqvist Design",
    base_currency="EUR",
    country="SE",
    timezone="Europe/Stockholm",
    support_email="kundservice@lindqvist-design.example",
    gs1_company_prefix="7350089",
    volume=0.8,
    warehouses=(
        WarehouseSpec(
            code="MMO",
            name="Malmö Warehouse",
            address_line1="Flintrännegatan 21",
            city="Malmö",
            region="Skåne",
            postal_code="211 24",
            country="SE",
            latitude=Decimal("55.6050"),
            longitude=Decimal("13.0038"),
            ships_to=("SE", "DK", "NO", "FI", "DE", "NL", "BE", "FR", "AT", "CH"),
            priority=10,
            handling_cost=Decimal("1.90"),
            cutoff=time(14, 0),
        ),
        WarehouseSpec(
            code="RTM",
            name="Rotterdam 3PL",
            address_line1="Albert Plesmanweg 43",
            city="Rotterdam",
            region="Zuid-Holland",
            postal_code="3088 GB",
            country="NL",
            latitude=Decimal("51.9244"),
            longitude=Decimal("4.4777"),
            ships_to=("NL", "BE", "LU", "DE", "FR", "AT", "CH"),
            priority=20,
            handling_cost=Decimal("2.40"),
            cutoff=time(16, 0),
        ),
        WarehouseSpec(
            code="LEJ",
            name="Leipzig Partner Warehouse",
            address_line1="Am Exer 10",
            city="Leipzig",
            region="Sachsen",
            postal_code="04158",
            country="DE",
            latitude=Decimal("51.3397"),
            longitude=Decimal("12.3731"),
            ships_to=("DE", "AT", "CH", "PL", "CZ"),
            priority=30,
            handling_cost=Decimal("2.10"),
            cutoff=time(15, 0),
        ),
    ),
    products=LINDQVIST_PRODUCTS,
    channels=(
        ChannelSpec("storefront", "lindqvist-design.se", 0.58),
        ChannelSpec("pos", "malmo-showroom", 0.18),
        ChannelSpec("amazon", "amazon-de", 0.16),
        ChannelSpec("ebay", "ebay-de", 0.03),
        ChannelSpec("manual", "trade-orders", 0.05),
    ),
    markets=(
        ("SE", 0.36),
        ("DE", 0.24),
        ("DK", 0.10),
        ("NO", 0.07),
        ("FI", 0.06),
        ("NL", 0.07),
        ("FR", 0.04),
        ("AT", 0.03),
        ("CH", 0.03),
    ),
    home_countries=frozenset({"SE", "DK", "NO", "FI", "DE", "NL", "BE", "FR", "AT"}),
    shipping_fee=Decimal("4.90"),
    international_shipping_fee=Decimal("14.90"),
    free_shipping_over=Decimal("60.00"),
    promo_codes=(("VALKOMMEN10", Decimal("0.10")), ("HYGGE15", Decimal("0.15"))),
    holiday_promo=("JUL20", Decimal("0.20")),
    prices_include_tax=True,
    staff_username="lindqvist",
    staff_name=("Elin", "Lindqvist"),
    bin_aisles="KLMN",
    # EU VAT of the customer's country (one-stop shop), included in the prices; exports
    # to Norway and Switzerland are zero-rated, so they have no rate.
    tax_rates=_vat(
        ("SE", "0.25"),
        ("DK", "0.25"),
        ("FI", "0.255"),
        ("DE", "0.19"),
        ("NL", "0.21"),
        ("BE", "0.21"),
        ("FR", "0.20"),
        ("AT", "0.20"),
        ("LU", "0.17"),
    ),
)

SELLERS = (NORTHWIND, LINDQVIST)
