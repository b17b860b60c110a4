"""Per-viewer watermarks: the viewer's name and seat across the page, so a photographed
confidential page names who leaked it. Rendered once per viewer and page, then cached.

Runs in the documents pool like every other MuPDF job. The text goes through MuPDF's HTML
layout (its built-in fonts carry Vietnamese), then onto the page as a rotated, translucent
form, three times down the page so a crop keeps at least one.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import html

import pymupdf

from appliance.core.text import nfc
from appliance.documents.render import encode, pixmap_of

ANGLE = 25
OPACITY = 0.3
COLOR = "#b03a2e"


def watermark_text(name: str, seat: int | None) -> str:
    """What the watermark says: "Nguyễn Văn An · ghế 12" (the seat only when there is one)."""
    label = nfc(name).strip() or "?"
    return f"{label} · ghế {seat}" if seat is not None else label


def _stamp(text: str) -> pymupdf.Document:
    stamp = pymupdf.open()
    page = stamp.new_page(width=600, height=56)
    body = (
        '<div style="font-family: sans-serif; font-weight: bold; font-size: 30px; '
        f'color: {COLOR}; text-align: center">{html.escape(text)}</div>'
    )
    # scale_low=0: a long name is shrunk to fit rather than cut.
    page.insert_htmlbox(page.rect, body, scale_low=0, opacity=OPACITY)
    return stamp


def watermark_pdf(pdf: bytes, index: int, text: str) -> bytes:
    """Page ``index`` (0-based) of ``pdf`` as a one-page PDF with ``text`` stamped over it."""
    with pymupdf.open("pdf", pdf) as source:
        out = pymupdf.open()
        out.insert_pdf(source, from_page=index, to_page=index)
    stamp = _stamp(text)
    page = out[0]
    rect = page.rect
    for band in range(3):
        box = pymupdf.Rect(rect.x0, rect.y0 + rect.height * band / 3, rect.x1, rect.y0 + rect.height * (band + 1) / 3)
        page.show_pdf_page(box, stamp, 0, rotate=ANGLE, overlay=True)
    return bytes(out.tobytes(garbage=1, deflate=True))


def render_watermarked(pdf: bytes, index: int, width_px: int, fmt: str, text: str) -> bytes:
    """A pool job: the watermarked page as an image ``width_px`` wide."""
    with pymupdf.open("pdf", watermark_pdf(pdf, index, text)) as doc:
        return encode(pixmap_of(doc.load_page(0), width_px), fmt)
