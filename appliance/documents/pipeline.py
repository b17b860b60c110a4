"""Ingest and render an upload off the event loop, page 1 first, the rest in the background.

All MuPDF work runs in a small process pool (``POOL_WORKERS``): the event loop of the
web server never stalls, a MuPDF crash or a memory bomb kills a worker and not the
server, and a job that hangs is killed after ``JOB_TIMEOUT_S``. Blobs are stored by the
caller's ``put_blob`` in the event-loop thread, so the store needs no locking.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from appliance.core.errors import PhsError
from appliance.documents import jobs, refusals
from appliance.documents.const import (
    DEFAULT_FORMAT,
    JOB_TIMEOUT_S,
    POOL_WORKERS,
    RENDERED_AT_INGEST,
    SIZES,
)
from appliance.documents.models import DocumentRecord
from appliance.documents.reader import Normalized
from appliance.documents.render import render_pages
from appliance.documents.rendering import PageRendering
from appliance.documents.sniff import sniff

log = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None
_stopping = False


def _get_pool() -> ProcessPoolExecutor:
    """The module's pool, created on first use.

    forkserver, not fork: forking a server that runs threads (uvloop, the journal writer)
    can copy held locks; the fork server preloads PyMuPDF so a new worker starts fast.
    """
    global _pool, _stopping
    if _pool is None:
        _stopping = False
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["appliance.documents.jobs"])
        _pool = ProcessPoolExecutor(
            max_workers=POOL_WORKERS, mp_context=context, initializer=jobs.init_worker
        )
    return _pool


def warm_up() -> None:
    """Start the workers now (at server start) so the first upload does not wait for them."""
    pool = _get_pool()
    for _ in range(POOL_WORKERS):
        pool.submit(jobs.noop)


def shutdown_pool() -> None:
    """Stop the workers (server shutdown, tests)."""
    global _pool, _stopping
    _stopping = True
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


def stopping() -> bool:
    """Whether the workers are being stopped (a background render then ends without a verdict)."""
    return _stopping


def _discard_pool(kill: bool) -> None:
    """Forget a broken or stuck pool; its workers are ours, so kill them by process id."""
    global _pool
    pool, _pool = _pool, None
    if pool is None:
        return
    if kill:
        processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


async def _run(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a job in the pool; refusals are re-raised, crashes and hangs become refusals."""
    loop = asyncio.get_running_loop()
    pool = _get_pool()
    try:
        kind, value = await asyncio.wait_for(
            loop.run_in_executor(pool, jobs.guarded, fn, *args), JOB_TIMEOUT_S
        )
    except TimeoutError:
        log.error("document job timed out", extra={"job": fn.__name__, "timeout_s": JOB_TIMEOUT_S})
        _discard_pool(kill=True)
        raise refusals.timed_out() from None
    except BrokenProcessPool:
        log.error("document worker died", extra={"job": fn.__name__})
        if _pool is pool:
            _discard_pool(kill=False)
        raise refusals.crashed() from None
    if kind == "ok":
        return value
    if kind == "refused":
        raise PhsError(value["code"], value["message"], value["message_en"], **value["detail"])
    log.error("document job failed", extra={"job": fn.__name__, "error": value})
    raise refusals.crashed() if value == "MemoryError" else refusals.damaged("PDF")


async def run_in_pool(fn: Callable[..., Any], *args: Any) -> Any:
    """Run one MuPDF job (a zoom rendition, a watermark, an export) off the event loop."""
    return await _run(fn, *args)


async def start_ingest(
    data: bytes,
    filename: str,
    password: str | None,
    put_blob: Callable[[bytes], str],
    *,
    progress: Callable[[int, int], None] | None = None,
    on_first_page: Callable[[dict[str, str]], None] | None = None,
    fmt: str = DEFAULT_FORMAT,
) -> tuple[DocumentRecord, PageRendering | None]:
    """Ingest an upload up to its first page; the other pages go on rendering in the background.

    The record is complete except for ``page_blobs``, where a page not rendered yet is "";
    the ``PageRendering`` (None for a one-page document) fills them in and ``wait()`` gives
    them all. ``on_first_page({"thumb": id, "tablet": id})`` fires as soon as page 1 is
    stored; ``progress(done, total)`` after page 1 and after every chunk of pages.
    Raises PhsError("unreadable_document") with a ``reason`` in its detail.
    """
    started = time.monotonic()
    widths = {name: SIZES[name] for name in RENDERED_AT_INGEST}
    pending: list[asyncio.Future[Any]] = []
    rendering: PageRendering | None = None

    def submit(fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        task = asyncio.ensure_future(_run(fn, *args))
        pending.append(task)
        return task

    try:
        normalizing = submit(jobs.normalize_job, data, filename, password)
        # Page 1 straight from the upload on the other worker, in parallel with normalizing
        # (not for LibreOffice conversions: too slow to run twice).
        early = sniff(data, filename) != "ole"
        if early:
            first = submit(jobs.first_page_job, data, filename, password, widths, fmt)
        normalized: Normalized = await normalizing
        pdf, total = normalized.pdf, len(normalized.sizes)
        if not early:
            first = submit(render_pages, pdf, [0], widths, fmt)
        text = submit(jobs.extract_job, normalized, filename)
        blobs: dict[str, list[str]] = {name: [""] * total for name in widths}
        results: Sequence[tuple[int, dict[str, bytes]]] = await first
        for index, images in results:
            for name, image in images.items():
                blobs[name][index] = put_blob(image)
        first_ms = round((time.monotonic() - started) * 1000)
        if on_first_page is not None:
            on_first_page({name: ids[0] for name, ids in blobs.items()})
        if progress is not None:
            progress(1, total)
        if total > 1:
            rendering = PageRendering(pdf, blobs, widths, fmt, put_blob, _run, progress)
        title, warnings, text_bytes = await text
    except BaseException:
        if rendering is not None:
            rendering.cancel()
        raise
    finally:
        for task in pending:
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # a sibling's refusal was already raised; mark it seen
    original_blob = put_blob(data)
    pdf_blob = put_blob(normalized.pdf)
    text_blob = put_blob(text_bytes) if text_bytes is not None else None
    log.info(
        "document ingested",
        extra={
            "format": normalized.source_format,
            "pages": total,
            "first_page_ms": first_ms,
            "ready_ms": round((time.monotonic() - started) * 1000),
            "warnings": list(warnings),
        },
    )
    record = DocumentRecord(
        title=title,
        page_count=total,
        pages=[{"w": w, "h": h} for w, h in normalized.sizes],
        # A copy: the background render goes on filling ``blobs`` after the record is journalled.
        page_blobs={name: list(ids) for name, ids in blobs.items()},
        original_blob=original_blob,
        text_blob=text_blob,
        pdf_blob=pdf_blob,
        source_format=normalized.source_format,
        warnings=warnings,
    )
    return record, rendering


async def ingest_and_render(
    data: bytes,
    filename: str,
    password: str | None,
    put_blob: Callable[[bytes], str],
    *,
    progress: Callable[[int, int], None] | None = None,
    on_first_page: Callable[[dict[str, str]], None] | None = None,
    fmt: str = DEFAULT_FORMAT,
) -> DocumentRecord:
    """Ingest an upload and store every rendition before returning (``start_ingest``, then wait).

    Page 1 is still rendered and stored first; a refusal of any page refuses the document.
    """
    record, rendering = await start_ingest(
        data, filename, password, put_blob, progress=progress, on_first_page=on_first_page, fmt=fmt
    )
    if rendering is not None:
        record.page_blobs = await rendering.wait()
    return record
