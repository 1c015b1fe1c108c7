"""PDF documents with reportlab: a carrier label (4×6 in, Code 128 barcode of the
tracking number), a packing slip per shipment and a pick list per wave or selection.
Each function takes plain rows and returns the PDF's bytes."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO

from reportlab.graphics.barcode import code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, inch
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core import pdf_fonts

LABEL_SIZE = (4 * inch, 6 * inch)
_STYLES = pdf_fonts.stylesheet()
_GRID = TableStyle(
    [
        pdf_fonts.TABLE_FONT,
        ("FONTNAME", (0, 0), (-1, 0), pdf_fonts.BOLD),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("GRID", (0, 1), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
    ]
)


def _address_lines(address) -> list[str]:
    locality = " ".join(part for part in (address.postal_code, address.city) if part)
    lines = [address.name, address.company, address.line1, address.line2, locality, address.region, address.country]
    return [line for line in lines if line]


def label_pdf(*, carrier_name: str, service_name: str, tracking_number: str, request) -> bytes:
    """A shipping label for ``request`` (a carriers.base.ShipmentRequest)."""
    buffer = BytesIO()
    width, height = LABEL_SIZE
    page = canvas.Canvas(buffer, pagesize=LABEL_SIZE, initialFontName=pdf_fonts.REGULAR)
    page.setTitle(f"Label {tracking_number}")
    margin = 0.2 * inch
    y = height - margin - 10
    page.setFont(pdf_fonts.REGULAR, 7)
    page.drawString(margin, y, "FROM:")
    for line in _address_lines(request.from_address):
        y -= 9
        page.drawString(margin, y, line[:60])
    y -= 14
    page.line(margin, y, width - margin, y)
    y -= 16
    page.setFont(pdf_fonts.BOLD, 9)
    page.drawString(margin, y, "SHIP TO:")
    page.setFont(pdf_fonts.BOLD, 12)
    for line in _address_lines(request.to_address):
        y -= 15
        page.drawString(margin + 10, y, line[:40])
    y -= 16
    page.line(margin, y, width - margin, y)
    y -= 18
    page.setFont(pdf_fonts.BOLD, 14)
    page.drawString(margin, y, f"{carrier_name}: {service_name}"[:38])
    y -= 14
    page.setFont(pdf_fonts.REGULAR, 8)
    kilograms = request.weight_grams / 1000
    page.drawString(margin, y, f"Weight {kilograms:.2f} kg   Ref {request.reference}   Parcels {len(request.parcels)}")

    barcode = code128.Code128(tracking_number, barHeight=0.9 * inch, barWidth=1.1)
    x = max(margin, (width - barcode.width) / 2)
    barcode.drawOn(page, x, 1.05 * inch)
    page.setFont(pdf_fonts.BOLD, 11)
    page.drawCentredString(width / 2, 0.8 * inch, f"TRACKING # {tracking_number}")
    if request.contents:
        page.setFont(pdf_fonts.REGULAR, 6)
        contents = ", ".join(f"{quantity} × {sku}" for sku, quantity in request.contents)
        page.drawString(margin, 0.45 * inch, f"Contents: {contents}"[:110])
    page.showPage()
    page.save()
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class SlipLine:
    sku: str
    name: str
    quantity: int
    bin_location: str = ""


@dataclass(frozen=True)
class PackingSlip:
    seller_name: str
    order_number: int
    shipment_number: int
    warehouse: str
    ship_to: object  # anything with the address attributes
    lines: Sequence[SlipLine]
    carrier: str = ""
    tracking_number: str = ""
    customer_note: str = ""


def packing_slip_pdf(slips: Iterable[PackingSlip]) -> bytes:
    """One page per shipment: who it is for, what is in the box, and how it travels."""
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title="Packing slips",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        initialFontName=pdf_fonts.REGULAR,
    )
    story: list = []
    for index, slip in enumerate(slips):
        if index:
            story.append(PageBreak())
        story += [
            Paragraph(f"{slip.seller_name}: packing slip", _STYLES["Title"]),
            Paragraph(
                f"Order #{slip.order_number} · Shipment {slip.shipment_number} · From {slip.warehouse}",
                _STYLES["Normal"],
            ),
            Spacer(1, 6 * mm),
            Paragraph(
                "<b>Ship to</b><br/>" + "<br/>".join(_escape(line) for line in _address_lines(slip.ship_to)),
                _STYLES["Normal"],
            ),
            Spacer(1, 6 * mm),
        ]
        rows = [["SKU", "Item", "Quantity"]] + [[line.sku, line.name[:60], str(line.quantity)] for line in slip.lines]
        rows.append(["", "Total units", str(sum(line.quantity for line in slip.lines))])
        story.append(Table(rows, colWidths=[40 * mm, 100 * mm, 25 * mm], style=_GRID, repeatRows=1))
        if slip.tracking_number:
            story += [
                Spacer(1, 6 * mm),
                Paragraph(f"Carrier: {_escape(slip.carrier)} · Tracking {slip.tracking_number}", _STYLES["Normal"]),
            ]
        if slip.customer_note:
            story += [Spacer(1, 4 * mm), Paragraph(f"Note: {_escape(slip.customer_note)}", _STYLES["Italic"])]
    document.build(story or [Paragraph("No shipments.", _STYLES["Normal"])])
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class PickRow:
    bin_location: str
    sku: str
    name: str
    quantity: int
    shipment_number: int


def pick_rows_grouped(rows: Iterable[PickRow]) -> list[tuple[str, str, str, int, list[int]]]:
    """(bin, sku, name, total, shipment numbers) in walking order: by bin, then SKU.
    Rows without a bin go last."""
    grouped: dict[tuple[str, str], list[PickRow]] = defaultdict(list)
    for row in rows:
        grouped[(row.bin_location, row.sku)].append(row)
    ordered = sorted(grouped.items(), key=lambda item: (item[0][0] == "", item[0][0], item[0][1]))
    return [
        (bin_location, sku, group[0].name, sum(r.quantity for r in group), sorted({r.shipment_number for r in group}))
        for (bin_location, sku), group in ordered
    ]


def pick_list_pdf(*, title: str, warehouse: str, rows: Iterable[PickRow]) -> bytes:
    """What to take from which bin, with the total per SKU and the shipments it is for."""
    grouped = pick_rows_grouped(rows)
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, title=title, leftMargin=15 * mm, rightMargin=15 * mm, initialFontName=pdf_fonts.REGULAR
    )
    table = [["Bin", "SKU", "Item", "Shipments", "Qty"]] + [
        [bin_location or "—", sku, name[:45], ", ".join(map(str, numbers))[:40], str(total)]
        for bin_location, sku, name, total, numbers in grouped
    ]
    table.append(["", "", "", "Total units", str(sum(group[3] for group in grouped))])
    story = [
        Paragraph(_escape(title), _STYLES["Title"]),
        Paragraph(f"Warehouse {_escape(warehouse)} · {len(grouped)} pick locations", _STYLES["Normal"]),
        Spacer(1, 6 * mm),
        Table(table, colWidths=[25 * mm, 35 * mm, 65 * mm, 40 * mm, 15 * mm], style=_GRID, repeatRows=1),
    ]
    document.build(story)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
