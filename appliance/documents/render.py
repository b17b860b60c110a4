"""Page images: what tablets, thumbnails and the hall display show.

Rendered with PyMuPDF; WebP encoded with Pillow (PyMuPDF writes only PNG/JPEG/PNM).
A page is rendered at an exact pixel width; a very tall page is rendered narrower so no
rendition exceeds MAX_RENDER_PIXELS (the memory of the box is shared with a sitting).
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import io
from collections.abc import Sequence

import pymupdf
from PIL import Image

from appliance.documents import refusals
from appliance.documents.const import (
    DEFAULT_FORMAT,
    JPEG_QUALITY,
    MAX_RENDER_PIXELS,
    MEDIA_TYPES,
    WEBP_METHOD,
    WEBP_QUALITY,
)
from appliance.documents.convert import MUPDF_ERRORS


def media_type(fmt: str) -> str:
    """The Content-Type of a rendition format."""
    return MEDIA_TYPES[fmt]


def encode(pixmap: pymupdf.Pixmap, fmt: str) -> bytes:
    """Encode an RGB pixmap; WebP and JPEG through Pillow (faster than MuPDF's JPEG)."""
    if fmt == "png":
        return bytes(pixmap.tobytes("png"))
    image = Image.frombuffer(
        "RGB", (pixmap.width, pixmap.height), pixmap.samples_mv, "raw", "RGB", pixmap.stride, 1
    )
    out = io.BytesIO()
    if fmt == "webp":
        image.save(out, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
    elif fmt == "jpeg":
        image.save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        raise ValueError(f"unknown image format {fmt!r}")
    return out.getvalue()


def pixmap_of(page: pymupdf.Page, width_px: int) -> pymupdf.Pixmap:
    """Render a page ``width_px`` wide (narrower if that would exceed the pixel budget)."""
    rect = page.rect
    # MuPDF rounds the scaled page outward; aim a hair under so float error never adds a column.
    zoom = (width_px - 0.01) / rect.width
    if width_px * rect.height * zoom > MAX_RENDER_PIXELS:
        zoom = (MAX_RENDER_PIXELS / (rect.width * rect.height)) ** 0.5
    return page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False, colorspace=pymupdf.csRGB)


def render_open(doc: pymupdf.Document, index: int, width_px: int, fmt: str) -> bytes:
    """Render page ``index`` (0-based) of an open document."""
    try:
        return encode(pixmap_of(doc.load_page(index), width_px), fmt)
    except MUPDF_ERRORS:
        raise refusals.damaged("PDF") from None


def render_page(pdf: bytes, index: int, width_px: int, fmt: str = DEFAULT_FORMAT) -> bytes:
    """One page (0-based ``index``) of a normalized PDF as an image ``width_px`` wide."""
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"unknown image format {fmt!r}")
    with pymupdf.open("pdf", pdf) as doc:
        if not 0 <= index < doc.page_count:
            raise IndexError(f"page index {index} out of range")
        return render_open(doc, index, width_px, fmt)


def render_pages(
    pdf: bytes, indices: Sequence[int], widths: dict[str, int], fmt: str = DEFAULT_FORMAT
) -> list[tuple[int, dict[str, bytes]]]:
    """Several pages at several widths, opening the PDF once (a pool job)."""
    out: list[tuple[int, dict[str, bytes]]] = []
    with pymupdf.open("pdf", pdf) as doc:
        for index in indices:
            # Widest first: MuPDF then decodes a page's big images once and reuses them.
            ordered = sorted(widths.items(), key=lambda item: -item[1])
            out.append((index, {name: render_open(doc, index, w, fmt) for name, w in ordered}))
    return out
