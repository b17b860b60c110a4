"""Text of a page as a reader and a search engine need it.

PDF text layers of Vietnamese documents are often defective: look-alike code points
(ƣ for ư), decomposed diacritics, letter-spaced headings, non-breaking and zero-width
spaces. We keep positions from MuPDF and clean the strings.
"""

# PyMuPDF ships partial annotations: calls into its untyped methods are allowed here only.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import re
import unicodedata

import pymupdf

from appliance.core.text import nfc
from appliance.documents.models import PageInfo, Word

_INVISIBLE = str.maketrans(
    {
        "\u00ad": None,
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\t": " ",
        "\r": "\n",
        "\u000b": "\n",
        "\f": "\n",
    }
)
_SPACE_BEFORE_MARK = re.compile(r"[ ]+(?=[\u0300-\u036f])")
_SPACES = re.compile(r" {2,}")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalize_extracted(text: str) -> str:
    """Clean a PDF text layer: NFC with look-alikes fixed, odd spacing collapsed.

    Why: search and the reader must see "nhà nước" whether the PDF said "nhà nƣớc",
    "nha\u0300 nươ\u0301c" or "nhà  nước".
    """
    cleaned = text.translate(_INVISIBLE)
    # A combining mark extracted as a separate glyph after a space belongs to the letter before.
    cleaned = _SPACE_BEFORE_MARK.sub("", cleaned)
    cleaned = nfc(cleaned)
    cleaned = _SPACES.sub(" ", cleaned)
    cleaned = "\n".join(line.strip() for line in cleaned.split("\n"))
    return _BLANK_LINES.sub("\n\n", cleaned).strip()


def _word(raw: tuple[float, float, float, float, str, int, int, int]) -> Word | None:
    text = nfc(raw[4].translate(_INVISIBLE)).strip()
    if not text:
        return None
    return (round(raw[0], 2), round(raw[1], 2), round(raw[2], 2), round(raw[3], 2), text)


def extract_page(page: pymupdf.Page) -> PageInfo:
    """Size, normalized text and positioned words of one page (one text extraction)."""
    textpage = page.get_textpage()
    text = normalize_extracted(textpage.extractText())
    words = tuple(w for w in (_word(raw) for raw in textpage.extractWORDS()) if w is not None)
    return PageInfo(
        width_pt=round(page.rect.width, 2),
        height_pt=round(page.rect.height, 2),
        text=text,
        words=words,
    )


def is_letter_text(text: str) -> bool:
    """True when a string has letters (not only digits, dashes, dots or symbols)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)
