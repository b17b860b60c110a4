"""Data shapes of the documents package (see docs/CONTRACTS.md, "appliance.documents")."""

from __future__ import annotations

from dataclasses import dataclass, field

#: A word on a page: (x0, y0, x1, y1, text) in PDF points, origin top-left.
Word = tuple[float, float, float, float, str]
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class PageInfo:
    """One page: its size in points, its normalized text and its words with positions."""

    width_pt: float
    height_pt: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass
class IngestedDocument:
    """A document read and normalized: every page renders from ``pdf``."""

    title: str
    page_count: int
    pages: list[PageInfo]
    pdf: bytes
    #: Source format sniffed from the content: "pdf", "docx", "xlsx", "doc", "jpeg", "png".
    source_format: str = "pdf"
    #: Soft problems the secretary may want to know about, e.g. "repaired", "no_text".
    warnings: tuple[str, ...] = ()


@dataclass
class DocumentRecord:
    """What ``ingest_and_render`` stored: blob ids the registry keeps for a document."""

    title: str
    page_count: int
    #: Page sizes in PDF points: [{"w": 595.3, "h": 841.9}, ...]; the UI reserves space with them.
    pages: list[dict[str, float]]
    #: Rendition name -> blob id per page (index 0 is page 1).
    page_blobs: dict[str, list[str]]
    original_blob: str
    #: JSON of text and word positions (see ``textblob``); None when no page has text.
    text_blob: str | None
    #: The normalized PDF: what zoom renditions and per-viewer watermarks render from.
    pdf_blob: str = ""
    source_format: str = "pdf"
    warnings: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SearchHit:
    """A match of a search: ``page`` is 1-based like the HTTP API; rects in PDF points."""

    page: int
    rects: tuple[Rect, ...]
