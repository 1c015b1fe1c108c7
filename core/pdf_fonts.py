"""The typeface of every PDF Waybill draws: Source Sans Pro, embedded in the file.

reportlab's Helvetica is one of PDF's standard fonts, which only know Latin-1: a
customer in Łódź, Brno, İstanbul, Athens or Kyiv came out as black boxes on the label,
the packing slip and the invoice. Source Sans Pro (SIL Open Font License) covers Latin
with its extensions, Greek and Cyrillic (not Chinese, Japanese or Korean). It ships in
the ``font-source-sans-pro`` package, so nothing is fetched at run time. reportlab
embeds only the glyphs a document uses.
"""

from pathlib import Path

import font_source_sans_pro
from reportlab.lib.fonts import addMapping
from reportlab.lib.styles import StyleSheet1, getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "SourceSansPro"
BOLD = "SourceSansPro-Bold"
ITALIC = "SourceSansPro-It"
BOLD_ITALIC = "SourceSansPro-BoldIt"

_FILES = Path(font_source_sans_pro.font_directory)
# name → (file, bold, italic)
_FACES = {
    REGULAR: ("SourceSansPro-Regular.ttf", 0, 0),
    BOLD: ("SourceSansPro-Bold.ttf", 1, 0),
    ITALIC: ("SourceSansPro-It.ttf", 0, 1),
    BOLD_ITALIC: ("SourceSansPro-BoldIt.ttf", 1, 1),
}
for _name, (_file, _bold, _italic) in _FACES.items():
    pdfmetrics.registerFont(TTFont(_name, str(_FILES / _file)))
    # <b> and <i> in a paragraph pick the family's bold and italic faces.
    addMapping(REGULAR, _bold, _italic, _name)

# The first command of every table's style. A table sets its default font (Helvetica)
# on each cell, even one holding a paragraph, so without it the file would carry
# Helvetica too.
TABLE_FONT = ("FONTNAME", (0, 0), (-1, -1), REGULAR)

_STANDARD_FACES = {
    "Helvetica": REGULAR,
    "Helvetica-Bold": BOLD,
    "Helvetica-Oblique": ITALIC,
    "Helvetica-BoldOblique": BOLD_ITALIC,
}


def stylesheet() -> StyleSheet1:
    """reportlab's sample styles (Normal, Title, Italic…) set in this typeface."""
    sheet = getSampleStyleSheet()  # a new sheet each call
    for style in sheet.byName.values():
        for attribute in ("fontName", "bulletFontName"):
            if face := _STANDARD_FACES.get(getattr(style, attribute, None)):
                setattr(style, attribute, face)
    return sheet
