"""Ingest and render an upload off the event loop, page 1 first, the rest in the background.

All MuPDF work runs in a small process pool (``POOL_WORKERS``): the event loop of the
web server never stalls, a MuPDF crash or a memory bomb kills a worker and not the
server, and a job that hangs is killed after ``JOB_TIMEOUT_S``. Blobs are stored by the
caller's ``put_blob`` in the event-loop thread, so the store needs no locking.

The pool never holds more jobs than workers: the others wait here, ``URGENT`` ones (an
upload's page 1, a page a reader asks for) ahead of ``BACKGROUND`` ones (the other pages,
the search text), so a new upload's first page does not queue behind another's 300 pages.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
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
from appliance.documents.rendering import PageRendering
from appliance.documents.sniff import sniff
from appliance.documents.title import choose_title

log = logging.getLogger(__name__)

#: Pool priorities: somebody waits for an URGENT job; BACKGROUND jobs fill idle workers.
URGENT, BACKGROUND = 0, 1

_pool: ProcessPoolExecutor | None = None
_stopping = False


class _Slots:
    """A place in the pool per worker, handed out by priority, then in order of asking."""

    def __init__(self, size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self._free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def acquire(self, priority: int) -> None:
        if self._free > 0 and not self._waiting:
            self._free -= 1
            return
        place: asyncio.Future[None] = self.loop.create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), place))
        try:
            await place
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self.release()  # handed a place in the same tick it was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiting:
            _, _, place = heapq.heappop(self._waiting)
            if not place.done():
                place.set_result(None)
                return
        self._free += 1


_slots: _Slots | None = None


def _get_slots() -> _Slots:
    global _slots
    if _slots is None or _slots.loop is not asyncio.get_running_loop():
        _slots = _Slots(POOL_WORKERS)
    return _slots


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
            max_workers=POOL_WORKERS, mp_context=context, initializer=jobs.init_worker, initargs=(os.getpid(),)
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


async def _run(fn: Callable[..., Any], *args: Any, priority: int = URGENT) -> Any:
    """Run a job in the pool; refusals are re-raised, crashes and hangs become refusals."""
    slots = _get_slots()
    await slots.acquire(priority)
    try:
        return await _run_now(fn, *args)
    finally:
        slots.release()


async def _run_now(fn: Callable[..., Any], *args: Any) -> Any:
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


async def run_in_background(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a job nobody waits for (pages 2..n, the text layer) when no urgent job is waiting."""
    return await _run(fn, *args, priority=BACKGROUND)


@dataclass
class Ingesting:
    """An upload whose page 1, PDFs and record are stored; pages and text still to come."""

    record: DocumentRecord
    #: Pages 2..n rendering in the background (None for a one-page document).
    rendering: PageRendering | None
    #: The search text layer being extracted in the background: the text blob, None for a scan.
    text: asyncio.Future[bytes | None]

    def cancel(self) -> None:
        """Stop the background work (the upload was refused, or a retry's document won)."""
        if self.rendering is not None:
            self.rendering.cancel()
        self.text.cancel()


async def begin_ingest(
    data: bytes,
    filename: str,
    password: str | None,
    put_blob: Callable[[bytes], str],
    *,
    progress: Callable[[int, int], None] | None = None,
    on_first_page: Callable[[dict[str, str]], None] | None = None,
    fmt: str = DEFAULT_FORMAT,
) -> Ingesting:
    """Ingest an upload up to its first page; the other pages and the text go on in the background.

    The record is complete except for ``page_blobs``, where a page not rendered yet is "",
    and ``text_blob`` (None until ``text`` is done). The title comes from the PDF's metadata
    and page 1's text, so it does not wait for the rest. ``on_first_page({"thumb": id,
    "tablet": id})`` fires as soon as page 1 is stored; ``progress(done, total)`` after
    page 1 and after every chunk of pages.
    Raises PhsError("unreadable_document") with a ``reason`` in its detail.
    """
    started = time.monotonic()
    widths = {name: SIZES[name] for name in RENDERED_AT_INGEST}
    pending: list[asyncio.Future[Any]] = []
    rendering: PageRendering | None = None
    text: asyncio.Future[bytes | None] | None = None

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
            first = submit(jobs.first_page_job, pdf, "normalized.pdf", None, widths, fmt)
        # Queued before pages 2..n, so search works long before the last page is rendered.
        text = asyncio.ensure_future(run_in_background(jobs.text_job, pdf))
        blobs: dict[str, list[str]] = {name: [""] * total for name in widths}
        results, first_text = await first
        for index, images in results:
            for name, image in images.items():
                blobs[name][index] = put_blob(image)
        first_ms = round((time.monotonic() - started) * 1000)
        if on_first_page is not None:
            on_first_page({name: ids[0] for name, ids in blobs.items()})
        if progress is not None:
            progress(1, total)
        if total > 1:
            rendering = PageRendering(pdf, blobs, widths, fmt, put_blob, run_in_background, progress)
        original_blob = put_blob(data)
        pdf_blob = put_blob(pdf)
    except BaseException:
        if rendering is not None:
            rendering.cancel()
        if text is not None:
            text.cancel()
        raise
    finally:
        for task in pending:
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # a sibling's refusal was already raised; mark it seen
    # A spreadsheet's first cell is a column header, not a title: its filename says more.
    title = choose_title(normalized.metadata_title, first_text, filename, use_text=normalized.source_format != "xlsx")
    log.info(
        "document ingested",
        extra={
            "format": normalized.source_format,
            "pages": total,
            "first_page_ms": first_ms,
            "ready_ms": round((time.monotonic() - started) * 1000),
            "warnings": list(normalized.warnings),
        },
    )
    record = DocumentRecord(
        title=title,
        page_count=total,
        pages=[{"w": w, "h": h} for w, h in normalized.sizes],
        # A copy: the background render goes on filling ``blobs`` after the record is journalled.
        page_blobs={name: list(ids) for name, ids in blobs.items()},
        original_blob=original_blob,
        text_blob=None,
        pdf_blob=pdf_blob,
        source_format=normalized.source_format,
        warnings=normalized.warnings,
    )
    return Ingesting(record, rendering, text)


async def finish_text(ingesting: Ingesting, put_blob: Callable[[bytes], str]) -> DocumentRecord:
    """Wait for the text layer and store it in the record (``no_text`` when a scan has none)."""
    record = ingesting.record
    try:
        text_bytes = await ingesting.text
    except BaseException:
        if ingesting.rendering is not None:
            ingesting.rendering.cancel()
        raise
    if text_bytes is None:
        record.warnings = (*record.warnings, "no_text")
    else:
        record.text_blob = put_blob(text_bytes)
    return record


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
    """``begin_ingest``, then wait for the text layer: the record is complete but for pages 2..n.

    The ``PageRendering`` (None for a one-page document) fills them in and ``wait()`` gives
    them all. Raises PhsError("unreadable_document") with a ``reason`` in its detail.
    """
    ingesting = await begin_ingest(
        data, filename, password, put_blob, progress=progress, on_first_page=on_first_page, fmt=fmt
    )
    return await finish_text(ingesting, put_blob), ingesting.rendering


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
