"""Functions that run in the worker processes of the documents pool.

Top-level and picklable by reference. A ``PhsError`` does not survive pickling (its
constructor takes the code, its args hold the text), so ``guarded`` sends refusals back
as plain data and the parent raises them again.
"""

from __future__ import annotations

import resource
import signal
from collections.abc import Callable
from typing import Any

from appliance.core.errors import PhsError
from appliance.documents.const import WORKER_MEMORY_BYTES
from appliance.documents.reader import Normalized, extract, finish, normalize, open_as_pdf
from appliance.documents.render import render_open
from appliance.documents.search import text_blob
from appliance.documents.sniff import sniff

Outcome = tuple[str, Any]


def init_worker() -> None:
    """Cap the worker's memory so a decompression bomb fails inside MuPDF, not the box."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = (
        WORKER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(hard, WORKER_MEMORY_BYTES)
    )
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def guarded(fn: Callable[..., Any], *args: Any) -> Outcome:
    """Run ``fn``; a refusal comes back as ("refused", body), anything else unexpected as
    ("failed", exception type name) so no document content crosses in an error message."""
    try:
        return ("ok", fn(*args))
    except PhsError as exc:
        return (
            "refused",
            {
                "code": exc.code,
                "message": exc.message,
                "message_en": exc.message_en,
                "detail": exc.detail,
            },
        )
    except MemoryError:
        return ("failed", "MemoryError")
    except Exception as exc:  # noqa: BLE001 - the parent turns it into a refusal
        return ("failed", type(exc).__name__)


def noop() -> None:
    """Warm-up job: makes the pool start its workers before the first upload."""


def normalize_job(data: bytes, filename: str, password: str | None) -> Normalized:
    """Step one of ingest in a worker."""
    return normalize(data, filename, password)


def extract_job(normalized: Normalized, filename: str) -> tuple[str, tuple[str, ...], bytes | None]:
    """Step two in a worker: (title, warnings, text blob) without shipping every word back."""
    pages = extract(normalized.pdf)
    document = finish(normalized, pages, filename)
    return document.title, document.warnings, text_blob(pages)


def first_page_job(
    data: bytes, filename: str, password: str | None, widths: dict[str, int], fmt: str
) -> list[tuple[int, dict[str, bytes]]]:
    """Page 1 straight from the upload, in parallel with ``normalize_job`` on the other worker.

    Opening twice costs little next to rendering, and the secretary sees page 1 about as soon
    as the file is checked. Limits are checked by ``normalize_job``, whose refusal wins.
    """
    # Widest first: MuPDF then decodes a page's big images once and reuses them.
    ordered = sorted(widths.items(), key=lambda item: -item[1])
    with open_as_pdf(data, sniff(data, filename), password) as doc:
        return [(0, {name: render_open(doc, 0, width, fmt) for name, width in ordered})]


def merge_images_job(images: list[bytes]) -> bytes:
    """Several photos of a paper document as one PDF, a page per image, in order."""
    from appliance.documents.convert import images_to_pdf

    return images_to_pdf(images)
