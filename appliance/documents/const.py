"""Limits and sizes for documents: the numbers a reviewer should find in one place."""

from __future__ import annotations

from typing import Final

#: Width in pixels of each rendition. ``thumb`` and ``tablet`` are rendered at ingest;
#: ``zoom`` is rendered lazily on first request (few pages are ever zoomed).
SIZES: Final[dict[str, int]] = {"thumb": 240, "tablet": 1280, "zoom": 2048}
RENDERED_AT_INGEST: Final[tuple[str, ...]] = ("thumb", "tablet")

#: WebP is what we ship: at 1280 px it is ~25% smaller than JPEG q80 for text pages
#: (Wi-Fi to 100 tablets is the bottleneck) and method 0 encodes faster than PyMuPDF's JPEG.
DEFAULT_FORMAT: Final = "webp"
WEBP_QUALITY: Final = 80
WEBP_METHOD: Final = 0
JPEG_QUALITY: Final = 80
MEDIA_TYPES: Final[dict[str, str]] = {
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "png": "image/png",
}

MAX_FILE_BYTES: Final = 200 * 1024 * 1024
MAX_PAGES: Final = 2000
#: 5 m² in PDF points²: A0 is 1 m²; anything bigger is a poster, a bug or an attack.
MAX_PAGE_AREA_PT2: Final = 5.0 / (0.0254 / 72) ** 2
#: Declared pixels of an uploaded photo/scan; a 500 dpi A4 scan is ~24 Mpx.
MAX_IMAGE_PIXELS: Final = 100_000_000
#: Pixels of one rendered page; a tall page is rendered narrower rather than huge.
MAX_RENDER_PIXELS: Final = 24_000_000
#: Sum of the declared uncompressed sizes inside a DOCX/XLSX (zip bomb guard).
MAX_UNZIPPED_BYTES: Final = 1024 * 1024 * 1024

#: Reflowable office documents (DOCX/XLSX) are laid out on A4 (portrait / landscape).
A4_PT: Final = (595.0, 842.0)

#: Worker processes for ingest and rendering; the box has few cores and serves a sitting.
POOL_WORKERS: Final = 2
#: Pages per render job: small enough for smooth progress, big enough to amortise opening the PDF.
RENDER_CHUNK: Final = 8
#: A document of at most this many pages is rendered whole before its upload is answered:
#: that is about one round of the pool, and nobody then sees its pages pending. A longer
#: one is added once page 1 is stored and the rest render in the background.
WHOLE_BEFORE_ANSWER_PAGES: Final = POOL_WORKERS * RENDER_CHUNK
#: A single job (normalize, extract, a chunk of pages) that runs longer is killed and refused.
JOB_TIMEOUT_S: Final = 120.0
#: Address-space cap of a worker process, so a decompression bomb fails inside MuPDF
#: (an exception we refuse with) instead of taking the box's memory.
WORKER_MEMORY_BYTES: Final = 3 * 1024 * 1024 * 1024
#: LibreOffice conversion of an old .doc.
SOFFICE_TIMEOUT_S: Final = 120.0
