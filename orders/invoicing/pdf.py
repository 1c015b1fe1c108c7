"""Invoices and credit notes as A4 PDFs (reportlab platypus), drawn only from the
document's snapshot, never from the live order, product or seller. Deterministic: the
same document renders to the same bytes (reportlab's invariant mode fixes the
creation date and file id), so two racing renders cannot disagree."""

from decimal import Decimal
from io import BytesIO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core import pdf_fonts
from core.money import minor_unit_exponent
from orders.invoicing.figures import format_rate

MARGIN = 18 * mm
CONTENT_WIDTH = A4[0] - 2 * MARGIN
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
SHADE = colors.HexColor("#f0f4f8")

_base = pdf_fonts.stylesheet()
STYLES = {
    "seller": ParagraphStyle("seller", parent=_base["Normal"], fontName=pdf_fonts.BOLD, fontSize=14, leading=18),
    "title": ParagraphStyle(
        "title", parent=_base["Normal"], fontName=pdf_fonts.BOLD, fontSize=20, leading=24, alignment=TA_RIGHT
    ),
    "body": ParagraphStyle(
        "body", parent=_base["Normal"], fontName=pdf_fonts.REGULAR, fontSize=9, leading=12, textColor=INK
    ),
    "muted": ParagraphStyle(
        "muted", parent=_base["Normal"], fontName=pdf_fonts.REGULAR, fontSize=8, leading=10, textColor=MUTED
    ),
    "label": ParagraphStyle(
        "label", parent=_base["Normal"], fontName=pdf_fonts.BOLD, fontSize=8, leading=11, textColor=MUTED
    ),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontName=pdf_fonts.REGULAR, fontSize=8.5, leading=10.5),
    "meta": ParagraphStyle(
        "meta", parent=_base["Normal"], fontName=pdf_fonts.REGULAR, fontSize=9, leading=12, alignment=TA_RIGHT
    ),
}


def amount_text(money) -> str:
    """1234.5 USD → "1,234.50" (grouped, on the currency's minor-unit grid)."""
    exponent = minor_unit_exponent(str(money.currency))
    amount = money.amount.quantize(Decimal(1).scaleb(-exponent))
    return f"{amount:,.{exponent}f}"


def _text(value) -> str:
    return escape(str(value or ""))


def _lines(*values) -> str:
    return "<br/>".join(_text(value) for value in values if value)


def address_text(address: dict) -> str:
    city_line = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    return _lines(
        address.get("name"),
        address.get("company"),
        address.get("line1"),
        address.get("line2"),
        city_line,
        address.get("region"),
        address.get("country"),
    )


def _date(value, tz: str) -> str:
    return value.astimezone(ZoneInfo(tz)).strftime("%d %b %Y") if value else "—"


def _header(document, title: str, meta_rows: list[tuple[str, str]]) -> Table:
    seller = [
        Paragraph(_text(document.seller_name), STYLES["seller"]),
        Paragraph(_text(document.seller_address).replace("\n", "<br/>"), STYLES["body"]),
    ]
    if document.seller_tax_id:
        seller.append(Paragraph(f"Tax ID: {_text(document.seller_tax_id)}", STYLES["body"]))
    if document.seller_email:
        seller.append(Paragraph(_text(document.seller_email), STYLES["muted"]))
    meta = Table(
        [[Paragraph(label, STYLES["label"]), Paragraph(value, STYLES["meta"])] for label, value in meta_rows],
        colWidths=[30 * mm, 50 * mm],
        style=TableStyle(
            [pdf_fonts.TABLE_FONT, ("BOTTOMPADDING", (0, 0), (-1, -1), 1), ("RIGHTPADDING", (-1, 0), (-1, -1), 0)]
        ),
    )
    right = [Paragraph(title, STYLES["title"]), Spacer(1, 4 * mm), meta]
    table = Table([[seller, right]], colWidths=[CONTENT_WIDTH - 82 * mm, 82 * mm])
    table.setStyle(
        TableStyle([pdf_fonts.TABLE_FONT, ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (0, -1), 0)])
    )
    return table


def _parties(document) -> Table:
    bill_to = [Paragraph("BILL TO", STYLES["label"]), Paragraph(address_text(document.billing_address), STYLES["body"])]
    if document.buyer_email:
        bill_to.append(Paragraph(_text(document.buyer_email), STYLES["muted"]))
    ship_to = [
        Paragraph("SHIP TO", STYLES["label"]),
        Paragraph(address_text(document.shipping_address), STYLES["body"]),
    ]
    table = Table([[bill_to, ship_to]], colWidths=[CONTENT_WIDTH / 2] * 2)
    table.setStyle(
        TableStyle(
            [
                pdf_fonts.TABLE_FONT,
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _table_style(rows: int, *, first_amount_column: int = 2) -> TableStyle:
    commands = [
        pdf_fonts.TABLE_FONT,
        ("FONT", (0, 0), (-1, 0), pdf_fonts.BOLD, 8),
        ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
        ("FONT", (0, 1), (-1, -1), pdf_fonts.REGULAR, 8.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("ALIGN", (first_amount_column, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for row in range(2, rows, 2):
        commands.append(("BACKGROUND", (0, row), (-1, row), SHADE))
    return TableStyle(commands)


def _line_table(document, line_rows) -> Table:
    rows = [["#", "Description", "Qty", "Unit price", "Tax rate", "Net", "Tax", "Total"]]
    for line in line_rows:
        description = _text(line.description)
        if line.sku:
            description += f'<br/><font size="7" color="#616e7c">SKU {_text(line.sku)}</font>'
        rows.append(
            [
                str(line.position),
                Paragraph(description, STYLES["cell"]),
                str(line.quantity),
                amount_text(line.unit_price),
                format_rate(line.tax_rate),
                amount_text(line.net_amount),
                amount_text(line.tax_amount),
                amount_text(line.gross_amount),
            ]
        )
    widths = [8 * mm, None, 10 * mm, 21 * mm, 15 * mm, 21 * mm, 19 * mm, 22 * mm]
    fixed = sum(width for width in widths if width)
    widths[1] = CONTENT_WIDTH - fixed
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_table_style(len(rows)))
    return table


def _tax_summary(document, tax_rows) -> Table:
    rows = [["Tax rate", "Net", "Tax", "Gross"]]
    for row in tax_rows:
        rows.append(
            [
                format_rate(row.tax_rate),
                amount_text(row.net_amount),
                amount_text(row.tax_amount),
                amount_text(row.gross_amount),
            ]
        )
    table = Table(rows, colWidths=[24 * mm, 26 * mm, 24 * mm, 26 * mm])
    table.setStyle(_table_style(len(rows), first_amount_column=1))
    return table


def _totals(document, total_label: str) -> Table:
    currency = str(document.total.currency)
    rows = [
        ["Net total", f"{amount_text(document.net_total)} {currency}"],
        ["Tax", f"{amount_text(document.tax_total)} {currency}"],
        [total_label, f"{amount_text(document.total)} {currency}"],
    ]
    table = Table(rows, colWidths=[26 * mm, 38 * mm])
    table.setStyle(
        TableStyle(
            [
                pdf_fonts.TABLE_FONT,
                ("FONT", (0, 0), (-1, -1), pdf_fonts.REGULAR, 9),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("FONT", (0, -1), (-1, -1), pdf_fonts.BOLD, 11),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
                ("TOPPADDING", (0, -1), (-1, -1), 5),
            ]
        )
    )
    return table


def _summary_block(document, tax_rows, total_label: str) -> Table:
    block = Table([[_tax_summary(document, tax_rows), _totals(document, total_label)]], colWidths=[110 * mm, None])
    block.setStyle(
        TableStyle(
            [
                pdf_fonts.TABLE_FONT,
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
            ]
        )
    )
    return block


def _render(document, *, title: str, meta_rows, total_label: str, notes: list[str]) -> bytes:
    buffer = BytesIO()

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(pdf_fonts.REGULAR, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, f"{document.seller_name} · {document.display_number}")
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=20 * mm,
        title=f"{title.title()} {document.display_number}",
        author=document.seller_name,
        subject=f"Order #{document.order_number}",
        invariant=1,
        initialFontName=pdf_fonts.REGULAR,
    )
    story = [
        _header(document, title, meta_rows),
        Spacer(1, 8 * mm),
        _parties(document),
        Spacer(1, 8 * mm),
        _line_table(document, list(document.lines.all())),
        Spacer(1, 6 * mm),
        KeepTogether([_summary_block(document, list(document.tax_lines.all()), total_label)]),
        Spacer(1, 8 * mm),
    ]
    story += [Paragraph(_text(note), STYLES["muted"]) for note in notes]
    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _meta(document) -> list[tuple[str, str]]:
    tz = document.seller_timezone
    rows = [
        ("Number", f"<b>{_text(document.display_number)}</b>"),
        ("Date", _date(document.issued_at, tz)),
        ("Order", f"#{document.order_number}"),
        ("Order date", _date(document.order_placed_at, tz)),
    ]
    if document.order_external_id:
        rows.append(("Reference", _text(document.order_external_id)))
    rows.append(("Currency", _text(document.total.currency)))
    return rows


def _tax_note(document) -> str:
    return "Prices include tax." if document.prices_include_tax else "Prices exclude tax; tax is shown per line."


def render_invoice_pdf(invoice) -> bytes:
    """``invoice`` with ``lines`` and ``tax_lines`` prefetched."""
    return _render(
        invoice,
        title="INVOICE",
        meta_rows=_meta(invoice),
        total_label="Total",
        notes=[_tax_note(invoice), f"All amounts in {invoice.total.currency}."],
    )


def render_credit_note_pdf(credit_note) -> bytes:
    meta = _meta(credit_note)
    meta.insert(1, ("Credits invoice", _text(credit_note.invoice_display_number)))
    notes = [f"This credit note reduces invoice {credit_note.invoice_display_number} by the total below."]
    if credit_note.reason:
        notes.append(f"Reason: {credit_note.reason}")
    notes.append(f"Refund reference: {credit_note.refund_reference}")
    notes += [_tax_note(credit_note), f"All amounts in {credit_note.total.currency}."]
    return _render(credit_note, title="CREDIT NOTE", meta_rows=meta, total_label="Total credited", notes=notes)
