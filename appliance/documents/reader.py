"""Read an upload into a normalized PDF plus per-page sizes, text and word positions.

Split in two steps so the pipeline can render page 1 while the text is extracted:
``normalize`` (fast: open, check limits, write a clean PDF) and ``extract`` (text).
Pages that cannot be loaded (a cyclic page tree, ...) make us refuse the whole document:
a council must never read a resolution with a page silently missing.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import pymupdf

from appliance.documents import refusals
from appliance.documents.const import MAX_FILE_BYTES, MAX_PAGE_AREA_PT2, MAX_PAGES
from appliance.documents.convert import (
    MUPDF_ERRORS,
    images_to_pdf,
    legacy_to_pdf,
    open_office,
    open_pdf,
)
from appliance.documents.models import IngestedDocument, PageInfo
from appliance.documents.sniff import sniff
from appliance.documents.text import extract_page
from appliance.documents.title import choose_title

log = logging.getLogger(__name__)

# MuPDF prints repair warnings on stderr; under supervisord they would be unstructured lines.
pymupdf.TOOLS.mupdf_display_errors(False)
pymupdf.TOOLS.mupdf_display_warnings(False)


@dataclass(frozen=True)
class Normalized:
    """A document after step one: a clean PDF and what we learnt opening it."""

    pdf: bytes
    sizes: tuple[tuple[float, float], ...]
    metadata_title: str | None
    source_format: str
    warnings: tuple[str, ...]


def open_as_pdf(data: bytes, fmt: str, password: str | None) -> pymupdf.Document:
    """Open any accepted format (see ``sniff``) as a PDF document."""
    if fmt == "pdf":
        return open_pdf(data, password)
    if fmt in ("docx", "xlsx"):
        return open_office(data, fmt)
    if fmt in ("jpeg", "png"):
        return pymupdf.open("pdf", images_to_pdf([data]))
    converted = legacy_to_pdf(data)
    try:
        return pymupdf.open("pdf", converted)
    except MUPDF_ERRORS:
        raise refusals.conversion_failed() from None


def _check_pages(doc: pymupdf.Document) -> tuple[tuple[float, float], ...]:
    """Load every page once: sizes, the area limit, and pages MuPDF cannot load."""
    count = doc.page_count
    if count == 0:
        raise refusals.damaged("PDF")
    if count > MAX_PAGES:
        raise refusals.too_many_pages(count, MAX_PAGES)
    sizes: list[tuple[float, float]] = []
    broken: list[int] = []
    for index in range(count):
        try:
            rect = doc.load_page(index).rect
        except MUPDF_ERRORS:
            broken.append(index + 1)
            continue
        if rect.width * rect.height > MAX_PAGE_AREA_PT2:
            raise refusals.page_too_large(index + 1)
        if rect.width < 1 or rect.height < 1:
            broken.append(index + 1)
            continue
        sizes.append((round(rect.width, 2), round(rect.height, 2)))
    if broken:
        raise refusals.damaged_pages(broken, count)
    return tuple(sizes)


def normalize(data: bytes, filename: str, password: str | None = None) -> Normalized:
    """Step one: sniff, open (decrypt, repair, convert), check limits, write a clean PDF."""
    if len(data) > MAX_FILE_BYTES:
        raise refusals.too_large(len(data), MAX_FILE_BYTES)
    started = time.monotonic()
    fmt = sniff(data, filename)
    doc = open_as_pdf(data, fmt, password)
    try:
        repaired = bool(doc.is_repaired)
        sizes = _check_pages(doc)
        metadata = doc.metadata or {}
        # garbage=3 drops unused and duplicate objects; saving without encryption is the default.
        pdf = bytes(doc.tobytes(garbage=3, deflate=True))
    except MUPDF_ERRORS:
        raise refusals.damaged("PDF") from None
    finally:
        doc.close()
    warnings = ("repaired",) if repaired else ()
    log.info(
        "document normalized",
        extra={
            "format": fmt,
            "pages": len(sizes),
            "bytes_in": len(data),
            "bytes_pdf": len(pdf),
            "repaired": repaired,
            "ms": round((time.monotonic() - started) * 1000),
        },
    )
    title = metadata.get("title") if fmt == "pdf" else None
    return Normalized(pdf, sizes, title, fmt, warnings)


def extract(pdf: bytes) -> list[PageInfo]:
    """Step two: text and word positions of every page of a normalized PDF."""
    try:
        with pymupdf.open("pdf", pdf) as doc:
            return [extract_page(doc.load_page(i)) for i in range(doc.page_count)]
    except MUPDF_ERRORS:
        raise refusals.damaged("PDF") from None


def finish(normalized: Normalized, pages: list[PageInfo], filename: str) -> IngestedDocument:
    """Join both steps: choose the title, flag documents without any text (scans)."""
    first_text = pages[0].text if pages else ""
    # A spreadsheet's first cell is a column header, not a title: its filename says more.
    use_text = normalized.source_format != "xlsx"
    title = choose_title(normalized.metadata_title, first_text, filename, use_text=use_text)
    warnings = normalized.warnings
    if not any(page.text for page in pages):
        warnings = (*warnings, "no_text")
    return IngestedDocument(
        title=title,
        page_count=len(pages),
        pages=pages,
        pdf=normalized.pdf,
        source_format=normalized.source_format,
        warnings=warnings,
    )


def ingest(data: bytes, filename: str, password: str | None = None) -> IngestedDocument:
    """Read PDF, DOCX, XLSX, JPG/PNG (and .doc with LibreOffice) or refuse with the reason."""
    normalized = normalize(data, filename, password)
    return finish(normalized, extract(normalized.pdf), filename)
