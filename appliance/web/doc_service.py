"""Documents at the web edge: uploads with progress, renditions made on demand (zoom, per-viewer
watermarks), the record of confidential openings, search and the notes store.

Services, no HTTP types (controllers/documents.py and doc_extras.py are the thin layer).
MuPDF work goes to the documents pool; blobs are stored from the event-loop thread, each
sealed with its document's own key (``put_for``), so ``phs sitting erase`` can shred one
document's content. Content of an erased document is refused with ``erased`` (410).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from appliance.core.errors import PhsError, refuse
from appliance.core.ids import new_id
from appliance.documents import jobs
from appliance.documents.const import (
    DEFAULT_FORMAT,
    RENDERED_AT_INGEST,
    SIZES,
    WHOLE_BEFORE_ANSWER_PAGES,
)
from appliance.documents.notes import NoteStore
from appliance.documents.page_cache import PageCache
from appliance.documents.render import render_pages
from appliance.documents.rendering import PageRendering
from appliance.documents.search import load_text_blob, search
from appliance.documents.watermark import render_watermarked, watermark_text
from appliance.meeting.decide import Command
from appliance.meeting.doc_rules import TEXT_PENDING, pages_pending, text_pending
from appliance.meeting.model import DocumentMeta
from appliance.meeting.roles import Actor
from appliance.meeting.views import may_read
from appliance.store.keys import document_key_name

if TYPE_CHECKING:
    from appliance.documents.models import DocumentRecord, PageInfo
    from appliance.documents.pipeline import Ingesting
    from appliance.web.service import Appliance

log = logging.getLogger("phs.documents")

#: A page of a confidential document viewed again by the same device within this many
#: seconds is not recorded again (thumbnails and re-renders would flood the record).
OPENING_DEDUP_S = 600.0
MAX_HITS = 200
TEXT_CACHE = 64
UPLOADS_KEPT = 200
PAGE_TEXTS_KEPT = 2000  # single pages extracted for a reader while a text layer is pending


class DocServices:
    """Per-appliance state of the documents edge; created on first use."""

    def __init__(self, appliance: Appliance) -> None:
        self.app = appliance
        self.uploads: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.renditions: dict[tuple[str, ...], str] = {}  # (doc, page, size[, viewer]) -> blob id
        self._rendering: dict[tuple[str, ...], asyncio.Future[str]] = {}
        self._pdfs: dict[str, str] = {}  # doc id -> blob id of its normalized PDF
        self._texts: OrderedDict[str, list[PageInfo]] = OrderedDict()
        self._seen: dict[tuple[str, str, str, int | None], float] = {}
        self._notes: NoteStore | None = None
        self._live: dict[str, PageRendering] = {}  # doc id -> the render of its remaining pages
        self._tasks: set[asyncio.Future[None]] = set()
        self._failed: set[str] = set()  # documents whose background render was refused: on demand only
        self._text_jobs: dict[str, asyncio.Future[None]] = {}  # doc id -> its text layer being extracted
        self._page_texts: OrderedDict[tuple[str, int], PageInfo] = OrderedDict()
        self.page_cache = PageCache(appliance.settings.page_cache_mib * 1024 * 1024)
        self._erased: frozenset[str] | None = None  # key names erased before this server started

    # -- keys ---------------------------------------------------------------------
    def put_for(self, doc_id: str) -> Callable[[bytes], str]:
        """Stores a blob sealed with the key of document ``doc_id`` (its pages, text, PDFs)."""
        return partial(self.app.blobs.put, key_name=document_key_name(doc_id))

    def erased(self, doc: DocumentMeta) -> bool:
        """Whether the document's key went with an erased sitting.

        Read once: keys are erased only with the server stopped (the writer's lock)."""
        if self._erased is None:
            self._erased = frozenset(self.app.keyring.erased_names())
        return document_key_name(doc.id) in self._erased

    def check_content(self, doc: DocumentMeta) -> None:
        """Refuse with ``erased`` before any content of an erased document is looked for."""
        if self.erased(doc):
            raise refuse("erased", document=doc.id)

    def original(self, doc: DocumentMeta) -> bytes:
        """The uploaded file itself (the caller judged the access)."""
        self.check_content(doc)
        return self.app.blobs.get(doc.original_blob)

    # -- uploads ----------------------------------------------------------------
    def progress(self, upload_id: str | None, filename: str) -> Any:
        """A callback for ``ingest_and_render`` that keeps the secretary's progress bar moving."""
        if not upload_id:
            return None
        entry = {"upload_id": upload_id, "filename": filename, "status": "working", "done": 0, "total": None,
                 "document": None, "error": None, "started": time.monotonic()}
        self.uploads[upload_id[:100]] = entry
        while len(self.uploads) > UPLOADS_KEPT:
            self.uploads.popitem(last=False)

        def update(done: int, total: int) -> None:
            entry["done"], entry["total"] = done, total

        return update

    def finish_upload(self, upload_id: str | None, doc_id: str | None, error: PhsError | None) -> None:
        """Mark an upload done or refused (the secretary's screen shows why)."""
        entry = self.uploads.get((upload_id or "")[:100])
        if entry is None:
            return
        if error is None:
            entry.update(status="done", document=doc_id)
        else:
            entry.update(status="refused", error=error.to_dict())

    async def ingest(
        self, files: list[tuple[str, bytes]], password: str | None, upload_id: str | None, *, doc_id: str
    ) -> tuple[DocumentRecord, str, Ingesting | None]:
        """Ingest one file, or several photos of a paper document as one (a page per image),
        as document ``doc_id`` (a new id: its blobs are sealed with the key of that id).

        A short document returns with every page and its text stored; a longer one once
        page 1 is: the record (pages not rendered yet have blob id "", the text blob is
        ``TEXT_PENDING``), the filename, and the pages and text going on in the background,
        which the caller hands to ``follow`` once the document is added (or to ``abandon``).
        """
        from appliance.documents.pipeline import begin_ingest, finish_text, run_in_pool
        from appliance.documents.sniff import sniff

        filename, data = files[0]
        if len(files) > 1:
            kinds = [sniff(content, name) for name, content in files]
            if any(kind not in ("jpeg", "png") for kind in kinds):
                raise refuse(
                    "unreadable_document",
                    "Chỉ gộp được nhiều tệp ảnh (JPG/PNG) thành một tài liệu; hãy tải từng tệp khác riêng.",
                    "Only several JPG/PNG images can be merged into one document; upload other files one by one.",
                    reason="mixed_files",
                )
            data = await run_in_pool(jobs.merge_images_job, [content for _, content in files])
            filename = filename.rsplit(".", 1)[0] + ".pdf"
        update = self.progress(upload_id, filename)
        try:
            put = self.put_for(doc_id)
            ingesting = await begin_ingest(data, filename, password, put, progress=update)
            record = ingesting.record
            if record.page_count <= WHOLE_BEFORE_ANSWER_PAGES:
                await finish_text(ingesting, put)
                if ingesting.rendering is not None:
                    record.page_blobs = await ingesting.rendering.wait()
                return record, filename, None
        except PhsError as err:
            self.finish_upload(upload_id, None, err)
            raise
        record.text_blob = TEXT_PENDING  # on the tablets now; search finds it once extracted
        return record, filename, ingesting

    def abandon(self, ingesting: Ingesting | None) -> None:
        """Stop the background work of an upload whose document was not added."""
        if ingesting is not None:
            ingesting.cancel()

    def follow(self, doc_id: str, ingesting: Ingesting | None, upload_id: str | None) -> None:
        """The document is added: serve its pages as they land, then journal them all; same for its text."""
        entry = self.uploads.get((upload_id or "")[:100])
        if entry is not None:
            entry["document"] = doc_id  # on the tablets already; the bar goes on until every page is stored
        if ingesting is None:
            self.finish_upload(upload_id, doc_id, None)
            return
        self._spawn_text(doc_id, ingesting.text)
        if ingesting.rendering is None:
            self.finish_upload(upload_id, doc_id, None)
            return
        self._follow_pages(doc_id, ingesting.rendering, upload_id)

    def _follow_pages(self, doc_id: str, rendering: PageRendering, upload_id: str | None) -> None:
        self._live[doc_id] = rendering
        task = asyncio.ensure_future(self._complete(doc_id, rendering, upload_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _complete(self, doc_id: str, rendering: PageRendering, upload_id: str | None) -> None:
        from appliance.web.service import SYSTEM

        try:
            blobs = await rendering.wait()
            # Durable: after a restart the pages are served from these, not made again.
            await self.app.execute(SYSTEM, Command("document_pages_ready", {"id": doc_id, "page_blobs": blobs}))
        except Exception as exc:  # noqa: BLE001 - a background task has nobody to raise to
            from appliance.documents.pipeline import stopping

            if stopping():  # the server is stopping: the next start renders what is missing
                log.info("background page render stopped", extra={"document": doc_id, "pending": rendering.total - rendering.done})
                return
            # The document stays readable: its missing pages are rendered when asked for.
            err = exc if isinstance(exc, PhsError) else refuse("unreadable_document", reason="render_failed")
            log.error("background page render failed", extra={"document": doc_id, "code": err.code, "detail": err.detail,
                                                                "error": type(exc).__name__})
            self._failed.add(doc_id)
            entry = self.uploads.get((upload_id or "")[:100])
            if entry is not None:
                entry.update(status="done", error=err.to_dict())
            return
        finally:
            self._live.pop(doc_id, None)
        self.finish_upload(upload_id, doc_id, None)

    # -- the search text layer, after the document is added --------------------------
    def _spawn_text(self, doc_id: str, text: asyncio.Future[bytes | None]) -> None:
        if doc_id in self._text_jobs:
            text.cancel()
            return
        task = asyncio.ensure_future(self._complete_text(doc_id, text))
        self._text_jobs[doc_id] = task
        task.add_done_callback(lambda _: self._text_jobs.pop(doc_id, None))

    async def _complete_text(self, doc_id: str, text: asyncio.Future[bytes | None]) -> None:
        from appliance.documents.pipeline import stopping
        from appliance.web.service import SYSTEM

        try:
            text_bytes = await text
        except Exception as exc:  # noqa: BLE001 - a background task has nobody to raise to
            if stopping():  # the next start extracts it when somebody searches
                return
            # Pages stay readable; search then finds nothing in it, which the log says why.
            code = exc.code if isinstance(exc, PhsError) else "unreadable_document"
            log.error("text extraction failed", extra={"document": doc_id, "code": code, "error": type(exc).__name__})
            text_bytes = None
        blob_id = self.put_for(doc_id)(text_bytes) if text_bytes is not None else ""
        try:
            await self.app.execute(SYSTEM, Command("document_text_ready", {"id": doc_id, "text_blob": blob_id}))
        except PhsError as err:
            log.error("text layer not recorded", extra={"document": doc_id, "code": err.code})
            return
        self._page_texts = OrderedDict((k, v) for k, v in self._page_texts.items() if k[0] != doc_id)
        log.info("document text ready", extra={"document": doc_id, "has_text": bool(blob_id)})

    def _resume_text(self, doc: DocumentMeta) -> None:
        """Extract the text a restart interrupted (on the first search or /text that needs it)."""
        from appliance.documents.pipeline import run_in_background

        if doc.id in self._text_jobs:
            return

        async def extract() -> bytes | None:
            text_bytes: bytes | None = await run_in_background(jobs.text_job, await self.pdf_of(doc))
            return text_bytes

        log.info("resuming text extraction", extra={"document": doc.id})
        self._spawn_text(doc.id, asyncio.ensure_future(extract()))

    def pages_pending(self, doc: DocumentMeta) -> int:
        """Pages of a document still being rendered (they are made on demand meanwhile)."""
        live = self._live.get(doc.id)
        return live.total - live.done if live is not None else pages_pending(doc)

    async def _resume(self, doc: DocumentMeta) -> None:
        """Render the pages a restart interrupted, in the background, as an upload would."""
        from appliance.documents.pipeline import run_in_background

        if doc.id in self._live or doc.id in self._failed:
            return
        widths = {name: SIZES[name] for name in RENDERED_AT_INGEST if name in doc.blobs}
        blobs = {name: list(doc.blobs[name]) for name in widths}
        if not blobs or any(len(ids) != doc.pages for ids in blobs.values()):
            return
        pdf = await self.pdf_of(doc)
        if doc.id in self._live:  # another request resumed it meanwhile
            return
        for (key_doc, page, name), blob_id in [(k, v) for k, v in self.renditions.items() if len(k) == 3]:
            if key_doc == doc.id and name in blobs and not blobs[name][int(page) - 1]:
                blobs[name][int(page) - 1] = blob_id
        log.info("resuming page render", extra={"document": doc.id, "pending": pages_pending(doc)})
        self._follow_pages(doc.id, PageRendering(pdf, blobs, widths, DEFAULT_FORMAT, self.put_for(doc.id), run_in_background), None)

    # -- renditions ---------------------------------------------------------------
    async def pdf_of(self, doc: DocumentMeta) -> bytes:
        """The normalized PDF a document renders from (made again from the original if not kept)."""
        self.check_content(doc)
        blob_id = doc.pdf_blob or self._pdfs.get(doc.id)
        if blob_id:
            return self.app.blobs.get(blob_id)
        from appliance.documents.pipeline import run_in_pool

        normalized = await run_in_pool(jobs.normalize_job, self.app.blobs.get(doc.original_blob), doc.filename, None)
        self._pdfs[doc.id] = self.put_for(doc.id)(normalized.pdf)
        return bytes(normalized.pdf)

    async def rendition(self, doc: DocumentMeta, page: int, size: str, actor: Actor) -> str:
        """Blob id of a page image: pre-rendered, or made now (zoom, watermark) and cached."""
        self.check_content(doc)
        if size not in SIZES:
            raise refuse("not_found", "Không có trang này.", "No such page.")
        if not 1 <= page <= doc.pages:
            raise refuse("not_found", "Không có trang này.", "No such page.")
        if not doc.watermark:
            ready = doc.blobs.get(size)
            if ready and len(ready) >= page and ready[page - 1]:
                return ready[page - 1]
            live = self._live.get(doc.id)
            if live is None and ready and len(ready) == doc.pages:
                await self._resume(doc)  # a restart interrupted the render of this document
                live = self._live.get(doc.id)
            if live is not None and live.page(size, page - 1):
                return live.page(size, page - 1)
            # Not rendered yet: made now, ahead of the background render, and kept by it.
            blob_id = await self._make((doc.id, str(page), size), doc, page, size, None)
            if live is not None:
                live.provide(size, page - 1, blob_id)
                return live.page(size, page - 1) or blob_id
            return blob_id
        participant = self.app.state.participants.get(actor.participant_id or "")
        name = participant.name if participant else actor.role
        seat = participant.seat if participant else None
        text = watermark_text(name, seat)
        return await self._make((doc.id, str(page), size, actor.participant_id or actor.role, text), doc, page, size, text)

    def page_bytes(self, blob_id: str) -> tuple[bytes, str]:
        """A page image's plaintext and media type, decrypted once then served from memory.

        Call only after the caller was allowed the page: the cache does not judge access."""
        return self.page_cache.get(blob_id, self.app.blobs.get)

    async def _make(self, key: tuple[str, ...], doc: DocumentMeta, page: int, size: str, text: str | None) -> str:
        if key in self.renditions:
            return self.renditions[key]
        if key in self._rendering:
            return await asyncio.shield(self._rendering[key])
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            from appliance.documents.pipeline import run_in_pool

            pdf = await self.pdf_of(doc)
            if text is None:
                images = await run_in_pool(render_pages, pdf, [page - 1], {size: SIZES[size]}, DEFAULT_FORMAT)
                image = images[0][1][size]
            else:
                image = await run_in_pool(render_watermarked, pdf, page - 1, SIZES[size], DEFAULT_FORMAT, text)
            blob_id = self.put_for(doc.id)(image)
            self.renditions[key] = blob_id
            future.set_result(blob_id)
            return blob_id
        except BaseException as err:
            future.set_exception(err)
            future.exception()
            raise
        finally:
            self._rendering.pop(key, None)

    # -- confidential openings ----------------------------------------------------
    async def record_opening(self, doc: DocumentMeta, actor: Actor, device: str, what: str, page: int | None = None) -> None:
        """Journal an opening of a confidential document before its content is served."""
        if doc.access != "confidential" or actor.participant_id is None:
            return
        now = time.monotonic()
        key = (doc.id, device, what, page)
        if what == "page" and now - self._seen.get(key, -OPENING_DEDUP_S) < OPENING_DEDUP_S:
            return
        await self.app.execute(actor, Command("note_opening", {"id": doc.id, "what": what, "page": page, "device": device}), device=device)
        self._seen[key] = now
        if len(self._seen) > 100_000:
            self._seen.clear()

    def openings(self, document: str | None) -> list[dict[str, Any]]:
        """Every recorded opening, with names for the chair's and the secretary's screen."""
        state = self.app.state
        out = []
        for row in state.openings:
            if document and row["document"] != document:
                continue
            who = state.participants.get(row["participant_id"])
            doc = state.documents.get(row["document"])
            out.append({**row, "title": doc.title if doc else None, "name": who.name if who else None, "role": who.role if who else None})
        return out

    # -- text and search ----------------------------------------------------------
    def text_pending(self, doc: DocumentMeta) -> bool:
        """Whether a document's search text is still being extracted (its extraction then runs)."""
        if not text_pending(doc) or self.erased(doc):
            return False
        self._resume_text(doc)
        return True

    def pages_text(self, doc: DocumentMeta) -> list[PageInfo]:
        """A document's text and word positions (empty pages for scans, none while pending), cached."""
        self.check_content(doc)
        if not doc.text_blob or self.text_pending(doc):
            return []
        cached = self._texts.get(doc.text_blob)
        if cached is None:
            cached = load_text_blob(self.app.blobs.get(doc.text_blob))
            self._texts[doc.text_blob] = cached
            while len(self._texts) > TEXT_CACHE:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(doc.text_blob)
        return cached

    async def page_text(self, doc: DocumentMeta, page: int) -> PageInfo | None:
        """One page's text: from the text layer, or extracted now while the layer is pending."""
        self.check_content(doc)
        if not self.text_pending(doc):
            pages = self.pages_text(doc)
            return pages[page - 1] if len(pages) >= page else None
        key = (doc.id, page)
        found = self._page_texts.get(key)
        if found is None:
            from appliance.documents.pipeline import run_in_pool

            live = self._live.get(doc.id)  # a long upload still rendering holds its PDF in memory
            pdf = live.pdf if live is not None else await self.pdf_of(doc)
            found = await run_in_pool(jobs.page_text_job, pdf, page - 1)
            self._page_texts[key] = found
            while len(self._page_texts) > PAGE_TEXTS_KEPT:
                self._page_texts.popitem(last=False)
        return found

    def search(self, actor: Actor, query: str, document: str | None) -> tuple[list[dict[str, Any]], list[str]]:
        """Hits across every current document the caller may read, in agenda order, and the
        documents searched whose text is still being extracted (no hits from them yet).

        An erased document is left out; asked for by name, it is refused with ``erased``."""
        state = self.app.state
        order = [d for item in state.agenda for d in item.documents]
        hits: list[dict[str, Any]] = []
        pending: list[str] = []
        for doc_id in order:
            doc = state.documents.get(doc_id)
            if doc is None or (document and doc_id != document) or not may_read(doc, actor, state):
                continue
            if self.erased(doc):
                if document:
                    self.check_content(doc)
                continue
            if self.text_pending(doc):
                pending.append(doc.id)
                continue
            pages = self.pages_text(doc)
            for hit in search([p.words for p in pages], query):
                words = pages[hit.page - 1].words
                hits.append({"document": doc.id, "title": doc.title, "page": hit.page,
                             "rects": [list(r) for r in hit.rects], "snippet": _snippet(words, hit.rects)})
                if len(hits) >= MAX_HITS:
                    return hits, pending
        return hits, pending

    # -- notes ----------------------------------------------------------------------
    @property
    def notes(self) -> NoteStore:
        """The sealed notes store, opened on first use (after the keys are unlocked)."""
        if self._notes is None:
            keyring = self.app.keyring
            self._notes = NoteStore(self.app.settings.data_dir / "notes", keyring.data_key("notes"), keyring.mac_key("notes"))
        return self._notes


def _snippet(words: Any, rects: Any) -> str:
    """A few words either side of a hit, for the result list."""
    first = tuple(rects[0])
    index = next((i for i, w in enumerate(words) if tuple(w[:4]) == first), 0)
    return " ".join(w[4] for w in words[max(0, index - 6) : index + len(rects) + 6])


def services(appliance: Appliance) -> DocServices:
    """The appliance's document services (one per appliance)."""
    found: DocServices | None = getattr(appliance, "_doc_services", None)
    if found is None:
        found = DocServices(appliance)
        appliance._doc_services = found  # type: ignore[attr-defined]
    return found


def new_document_id() -> str:
    """Ids of documents, as ``Appliance.add_document`` makes them."""
    return new_id("doc_")


def record_args(record: DocumentRecord) -> dict[str, Any]:
    """The ``record`` argument of ``add_document`` / ``replace_document``."""
    return {
        "title": record.title,
        "page_count": record.page_count,
        "sizes": [[p["w"], p["h"]] for p in record.pages],
        "page_blobs": record.page_blobs,
        "original_blob": record.original_blob,
        "text_blob": record.text_blob,
        "pdf_blob": record.pdf_blob,
    }
