"""Labels, packing slips and pick lists print the names and addresses of customers
outside Latin-1 (Polish, Czech, Turkish, Greek, Ukrainian) as text, in the embedded
typeface, instead of black boxes."""

from io import BytesIO

from pypdf import PdfReader

from shipping.carriers.base import Address, ParcelSpec, ShipmentRequest
from shipping.documents import PackingSlip, PickRow, SlipLine, label_pdf, packing_slip_pdf, pick_list_pdf

WAREHOUSE = Address(name="Magazyn Północ", line1="ul. Żeromskiego 5", city="Łódź", postal_code="90-001", country="PL")
CUSTOMERS = [
    Address(name="Jiří Dvořák", line1="Náměstí Míru 12", city="Brno", postal_code="602 00", country="CZ"),
    Address(name="Ayşe Yılmaz", line1="Şişli Caddesi 4", city="İstanbul", postal_code="34360", country="TR"),
    Address(name="Νίκος Παπαδόπουλος", line1="Οδός Ερμού 20", city="Αθήνα", postal_code="105 63", country="GR"),
    Address(name="Олена Шевченко", line1="вул. Хрещатик 1", city="Київ", postal_code="01001", country="UA"),
]


def pdf_pages(content: bytes) -> list:
    return PdfReader(BytesIO(content)).pages


def font_names(page) -> set[str]:
    fonts = page["/Resources"]["/Font"]
    return {str(fonts[key].get_object()["/BaseFont"]) for key in fonts}


def test_labels_print_addresses_in_any_european_script():
    for customer in CUSTOMERS:
        request = ShipmentRequest(
            reference="ZAM-1",
            from_address=WAREHOUSE,
            to_address=customer,
            parcels=(ParcelSpec(weight_grams=1200),),
            currency="EUR",
            contents=(("KUBEK-Ż", 2),),
        )
        (page,) = pdf_pages(
            label_pdf(carrier_name="Poczta", service_name="Priorytet", tracking_number="PL123", request=request)
        )

        text = page.extract_text()
        for expected in (customer.name, customer.line1, customer.city, "Łódź", "Magazyn Północ", "KUBEK-Ż"):
            assert expected in text
        assert all("SourceSansPro" in name for name in font_names(page))


def test_packing_slips_and_pick_lists_print_names_in_any_european_script():
    slip = PackingSlip(
        seller_name="Sklep Ćma",
        order_number=7,
        shipment_number=1,
        warehouse="ŁDZ",
        ship_to=CUSTOMERS[3],
        lines=[SlipLine(sku="ЧАШКА", name="Чашка керамічна", quantity=2)],
        customer_note="Proszę zadzwonić przed dostawą",
    )
    (page,) = pdf_pages(packing_slip_pdf([slip]))
    text = page.extract_text()
    for expected in ("Sklep Ćma", "Олена Шевченко", "вул. Хрещатик 1", "Чашка керамічна", "Proszę zadzwonić"):
        assert expected in text
    assert all("SourceSansPro" in name for name in font_names(page))

    (page,) = pdf_pages(
        pick_list_pdf(title="Lista kompletacji", warehouse="ŁDZ", rows=[PickRow("Ą-01", "ŻÓŁW", "Żółw pluszowy", 3, 7)])
    )
    text = page.extract_text()
    assert "Żółw pluszowy" in text and "Ą-01" in text
