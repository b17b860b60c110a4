"""Functions that run in the worker processes of the documents pool.

Top-level and picklable by reference. A ``PhsError`` does not survive pickling (its
constructor takes the code, its args hold the text), so ``guarded`` sends refusals back
as plain data and the parent raises them again.
"""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from appliance.core.errors import PhsError
from appliance.documents.const import DEFAULT_FORMAT, WORKER_MEMORY_BYTES
from appliance.documents.models import PageInfo
from appliance.documents.reader import Normalized, extract, normalize, open_as_pdf
from appliance.documents.render import render_open
from appliance.documents.search import text_blob
from appliance.documents.sniff import sniff
from appliance.documents.text import extract_page

Outcome = tuple[str, Any]


def init_worker(server_pid: int = 0) -> None:
    """Cap the worker's memory so a decompression bomb fails inside MuPDF, not the box; end with the server.

    Workers are children of the fork server, not of the server: when the server is killed
    (a crash, a power-cut test) nothing tells them, and each restart would leave two
    workers of ~100 MB behind. A watcher thread ends the worker once the server is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if server_pid > 0:
        threading.Thread(target=_end_with, args=(server_pid,), name="phs-worker-orphan-watch", daemon=True).start()
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = (
        WORKER_MEMORY_BYTES if hard == resource.RLIM_INFINITY else min(hard, WORKER_MEMORY_BYTES)
    )
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _end_with(server_pid: int, every_s: float = 2.0) -> None:
    while True:
        time.sleep(every_s)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os._exit(0)  # the server is gone: nobody will ever collect this worker's results
        except PermissionError:
            pass  # alive (another user's pid would be a reuse; the server runs as ours)


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
    """Warm-up job: starts a worker and loads what a first page needs (MuPDF's fonts, Pillow's
    WebP encoder, loaded on first use), so the first upload after a start does not pay for it."""
    import pymupdf

    with pymupdf.open() as doc:  # type: ignore[no-untyped-call]
        doc.new_page(width=200, height=100).insert_text((20, 50), "Trang 1")
        extract_page(doc.load_page(0))
        render_open(doc, 0, 240, DEFAULT_FORMAT)


def normalize_job(data: bytes, filename: str, password: str | None) -> Normalized:
    """Step one of ingest in a worker."""
    return normalize(data, filename, password)


def text_job(pdf: bytes) -> bytes | None:
    """The search text layer of a whole normalized PDF, in the background: the text blob
    (None for a scan) without shipping every word back."""
    return text_blob(extract(pdf))


def page_text_job(pdf: bytes, index: int) -> PageInfo:
    """One page's text, for a reader selecting text before the whole layer is extracted."""
    with open_as_pdf(pdf, "pdf", None) as doc:
        return extract_page(doc.load_page(index))


def first_page_job(
    data: bytes, filename: str, password: str | None, widths: dict[str, int], fmt: str
) -> tuple[list[tuple[int, dict[str, bytes]]], str]:
    """Page 1 straight from the upload, in parallel with ``normalize_job`` on the other worker,
    and page 1's text (the title is chosen from it, so the text layer can wait).

    Opening twice costs little next to rendering, and the secretary sees page 1 about as soon
    as the file is checked. Limits are checked by ``normalize_job``, whose refusal wins.
    """
    # Widest first: MuPDF then decodes a page's big images once and reuses them.
    ordered = sorted(widths.items(), key=lambda item: -item[1])
    with open_as_pdf(data, sniff(data, filename), password) as doc:
        images = {name: render_open(doc, 0, width, fmt) for name, width in ordered}
        return [(0, images)], extract_page(doc.load_page(0)).text


def merge_images_job(images: list[bytes]) -> bytes:
    """Several photos of a paper document as one PDF, a page per image, in order."""
    from appliance.documents.convert import images_to_pdf

    return images_to_pdf(images)
