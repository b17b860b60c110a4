"""Documents: ingest with PyMuPDF, page images, text and search (docs/CONTRACTS.md)."""

from appliance.documents.const import RENDERED_AT_INGEST, SIZES
from appliance.documents.convert import images_to_pdf
from appliance.documents.models import DocumentRecord, IngestedDocument, PageInfo, SearchHit, Word
from appliance.documents.pipeline import (
    Ingesting,
    begin_ingest,
    ingest_and_render,
    shutdown_pool,
    start_ingest,
    warm_up,
)
from appliance.documents.reader import ingest
from appliance.documents.render import media_type, render_page
from appliance.documents.rendering import PageRendering
from appliance.documents.search import load_text_blob, search, text_blob
from appliance.documents.text import normalize_extracted

__all__ = [
    "RENDERED_AT_INGEST",
    "SIZES",
    "DocumentRecord",
    "IngestedDocument",
    "Ingesting",
    "PageRendering",
    "PageInfo",
    "SearchHit",
    "Word",
    "begin_ingest",
    "images_to_pdf",
    "ingest",
    "ingest_and_render",
    "load_text_blob",
    "media_type",
    "normalize_extracted",
    "render_page",
    "search",
    "shutdown_pool",
    "start_ingest",
    "text_blob",
    "warm_up",
]
