"""Documents of a sitting after upload: access, reading order, new versions, "follow me"
and the record of who opened a confidential document ("mật").

Pure rules like the rest of ``meeting``: commands are judged here and become journal
events, so the order of documents, their access and every opening of a confidential
draft are part of the sealed record the chair and secretary (and later the archive) read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.decide import access_allowed, handles, readers_of
from appliance.meeting.model import AgendaItem, DocumentMeta, SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import may_read

#: Openings kept in the state (the journal keeps them all); enough for any sitting's audit screen.
MAX_OPENINGS = 20_000
OPENING_KINDS = ("open", "page", "original")
#: ``text_blob`` of a document added before its search text was extracted (never a blob id:
#: those are 32 hex digits); ``document_text_ready`` replaces it with the blob id, or "" for a scan.
TEXT_PENDING = "pending"


@event("document_access_set")
@dataclass(frozen=True)
class DocumentAccessSet(Event):
    """Who may read a document changed (access level, named readers, watermark)."""

    id: str
    access: str
    readers: tuple[str, ...] = ()
    watermark: bool = False


@event("document_moved")
@dataclass(frozen=True)
class DocumentMoved(Event):
    """A document took another place in the reading order (``position`` 0-based in its item)."""

    id: str
    item_id: str
    position: int


@event("document_replaced")
@dataclass(frozen=True)
class DocumentReplaced(Event):
    """``new_id`` (already added) takes the place of ``old_id``, one version later."""

    old_id: str
    new_id: str


@event("document_pages_ready")
@dataclass(frozen=True)
class DocumentPagesReady(Event):
    """The pages rendered after a document was added (page 1 came with it) are all stored."""

    id: str
    blobs: dict[str, Any] = field(default_factory=dict)  # size -> blob id per page


@event("document_text_ready")
@dataclass(frozen=True)
class DocumentTextReady(Event):
    """The search text of a document added before it was extracted is stored ("" : it has none)."""

    id: str
    text_blob: str = ""


@event("document_opened")
@dataclass(frozen=True)
class DocumentOpened(Event):
    """Someone opened a confidential document (its metadata, a page or the original)."""

    id: str
    participant_id: str
    device: str
    what: str
    page: int | None
    at: float


@event("page_presented")
@dataclass(frozen=True)
class PagePresented(Event):
    """The chair or a presenter shows a page on every screen ("follow me")."""

    document: str
    page: int
    by: str
    at: float


@event("presenting_stopped")
@dataclass(frozen=True)
class PresentingStopped(Event):
    """Nobody presents any more; tablets stay where they are."""

    by: str


# -- commands -------------------------------------------------------------------


def _document(state: SessionState, args: dict[str, Any]) -> DocumentMeta:
    doc = state.documents.get(str(args.get("id", "")))
    if doc is None:
        raise refuse("not_found", "Không có tài liệu này.", "No such document.")
    return doc


def _item_of(state: SessionState, doc: DocumentMeta) -> AgendaItem:
    for item in state.agenda:
        if item.id == doc.item_id:
            return item
    raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")


@handles("set_document_access", "document.manage")
def _set_access(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    doc = _document(state, args)
    access = args.get("access", doc.access)
    if not access_allowed(state, access):
        raise refuse("invalid", "Mức truy cập không hợp lệ.", "Unknown access level.")
    readers = readers_of(state, access, args.get("readers", doc.readers if access == "confidential" else None))
    watermark = args.get("watermark", doc.watermark)
    if not isinstance(watermark, bool):
        raise refuse("invalid", message_en="'watermark' must be true or false.")
    if (access, list(readers), watermark) == (doc.access, doc.readers, doc.watermark):
        return []
    return [DocumentAccessSet(doc.id, access, readers, watermark)]


@handles("move_document", "document.manage")
def _move(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    doc = _document(state, args)
    if doc.replaced_by is not None:
        raise refuse("conflict", "Tài liệu này đã được thay bằng phiên bản mới.", "This document was replaced by a newer version.")
    target = _item_of(state, doc)
    item_n = args.get("item")
    if item_n is not None:
        if not isinstance(item_n, int) or isinstance(item_n, bool) or not 1 <= item_n <= len(state.agenda):
            raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
        target = state.agenda[item_n - 1]
    others = [d for d in target.documents if d != doc.id]
    position = args.get("position", len(others) + 1)
    if not isinstance(position, int) or isinstance(position, bool) or not 1 <= position <= len(others) + 1:
        raise refuse("invalid", "Vị trí không hợp lệ.", f"'position' must be 1..{len(others) + 1}.")
    if target.id == doc.item_id and target.documents.index(doc.id) == position - 1:
        return []
    return [DocumentMoved(doc.id, target.id, position - 1)]


@handles("replace_document", "document.manage")
def _replace(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Args: ``old_id``, and ``id``, ``filename``, ``record`` of the new version (as ``add_document``)."""
    from appliance.meeting.decide import _add_document

    old = state.documents.get(str(args.get("old_id", "")))
    if old is None:
        raise refuse("not_found", "Không có tài liệu này.", "No such document.")
    if old.replaced_by is not None:
        raise refuse("conflict", "Tài liệu này đã được thay bằng phiên bản mới.", "This document was already replaced.")
    item = _item_of(state, old)
    add = dict(
        id=args["id"],
        filename=args.get("filename", old.filename),
        record=args["record"],
        item=state.agenda.index(item) + 1,
        access=old.access,
        readers=list(old.readers) or None,
        watermark=old.watermark,
    )
    added = _add_document(state, actor, add, now)
    return [*added, DocumentReplaced(old.id, str(add["id"]))]


@handles("document_pages_ready", "document.manage")
def _pages_ready(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Args: ``id`` and ``page_blobs`` (size -> a blob id for every page), as the background render made them."""
    doc = _document(state, args)
    given = args.get("page_blobs")
    if not isinstance(given, dict) or not given:
        raise refuse("invalid", message_en="'page_blobs' maps each size to a blob id per page.")
    changed: dict[str, list[str]] = {}
    for name, ids in given.items():
        if name not in doc.blobs:
            raise refuse("invalid", message_en=f"This document has no pre-rendered size {str(name)[:20]!r}.")
        if not isinstance(ids, list) or len(ids) != doc.pages or not all(isinstance(b, str) and 0 < len(b) <= 200 for b in ids):
            raise refuse("invalid", message_en=f"'page_blobs' gives a blob id for each of the {doc.pages} pages.")
        if any(not have for have in doc.blobs[name]):
            changed[name] = list(ids)
    return [DocumentPagesReady(doc.id, changed)] if changed else []


@handles("document_text_ready", "document.manage")
def _text_ready(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Args: ``id`` and ``text_blob`` (the text layer's blob id, "" when no page has text)."""
    doc = _document(state, args)
    blob = args.get("text_blob", "")
    if not isinstance(blob, str) or len(blob) > 200 or blob == TEXT_PENDING:
        raise refuse("invalid", message_en="'text_blob' is the blob id of the text layer, or \"\" when there is no text.")
    return [DocumentTextReady(doc.id, blob)] if text_pending(doc) else []


@handles("note_opening", "document.read")
def _opening(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    doc = _document(state, args)
    if doc.access != "confidential" or not may_read(doc, actor, state) or actor.participant_id is None:
        return []
    what = args.get("what", "open")
    if what not in OPENING_KINDS:
        raise refuse("invalid", message_en=f"'what' must be one of {', '.join(OPENING_KINDS)}.")
    page = args.get("page")
    return [DocumentOpened(doc.id, actor.participant_id, str(args.get("device", ""))[:64], what, page if isinstance(page, int) else None, now.wall)]


@handles("present_page", "document.present")
def _present(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    doc = _document(state, args)
    if not may_read(doc, actor, state):
        raise refuse("not_found", "Không có tài liệu này.", "No such document.")
    page = args.get("page", 1)
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= doc.pages:
        raise refuse("invalid", "Không có trang này.", f"'page' must be 1..{doc.pages}.")
    current = state.presenting
    if current and current.get("document") == doc.id and current.get("page") == page:
        return []
    return [PagePresented(doc.id, page, actor.participant_id or "", now.wall)]


@handles("stop_presenting", "document.present")
def _stop(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    return [PresentingStopped(actor.participant_id or "")] if state.presenting else []


# -- how the events change the state --------------------------------------------


@applies(DocumentAccessSet)
def _access_set(s: SessionState, e: DocumentAccessSet) -> None:
    doc = s.documents[e.id]
    doc.access, doc.readers, doc.watermark = e.access, list(e.readers), e.watermark


@applies(DocumentMoved)
def _moved(s: SessionState, e: DocumentMoved) -> None:
    for item in s.agenda:
        if e.id in item.documents:
            item.documents.remove(e.id)
    for item in s.agenda:
        if item.id == e.item_id:
            item.documents.insert(min(e.position, len(item.documents)), e.id)
    s.documents[e.id].item_id = e.item_id


@applies(DocumentReplaced)
def _replaced(s: SessionState, e: DocumentReplaced) -> None:
    old, new = s.documents[e.old_id], s.documents[e.new_id]
    old.replaced_by, new.replaces, new.version = new.id, old.id, old.version + 1
    for item in s.agenda:
        if new.id in item.documents:
            item.documents.remove(new.id)
        if old.id in item.documents:
            item.documents[item.documents.index(old.id)] = new.id
    if s.presenting and s.presenting.get("document") == old.id:
        s.presenting = None


@applies(DocumentPagesReady)
def _pages_stored(s: SessionState, e: DocumentPagesReady) -> None:
    doc = s.documents[e.id]
    for name, ids in e.blobs.items():
        have = doc.blobs.get(name) or [""] * len(ids)
        # A page already known keeps its blob id: it is the page's ETag on every tablet.
        doc.blobs[name] = [old or new for old, new in zip(have, ids, strict=True)]


def pages_pending(doc: DocumentMeta) -> int:
    """Pages of a document not yet stored at every pre-rendered size (0 once all are ready)."""
    sizes = list(doc.blobs.values())
    return sum(1 for index in range(doc.pages) if not all(len(ids) > index and ids[index] for ids in sizes))


def text_pending(doc: DocumentMeta) -> bool:
    """Whether a document's search text is still being extracted (search and /text say so)."""
    return doc.text_blob == TEXT_PENDING


@applies(DocumentTextReady)
def _text_stored(s: SessionState, e: DocumentTextReady) -> None:
    s.documents[e.id].text_blob = e.text_blob


@applies(DocumentOpened)
def _opened(s: SessionState, e: DocumentOpened) -> None:
    s.openings.append({"document": e.id, "participant_id": e.participant_id, "device": e.device, "what": e.what, "page": e.page, "at": e.at})
    if len(s.openings) > MAX_OPENINGS:
        del s.openings[: len(s.openings) - MAX_OPENINGS]


@applies(PagePresented)
def _presented(s: SessionState, e: PagePresented) -> None:
    s.presenting = {"document": e.document, "page": e.page, "by": e.by, "at": e.at}


@applies(PresentingStopped)
def _stopped(s: SessionState, e: PresentingStopped) -> None:
    s.presenting = None


#: Which view sections each event changes (appliance/web/live.py).
DOC_EVENT_SECTIONS: dict[str, tuple[str, ...]] = {
    "document_access_set": ("agenda", "documents", "presenting"),
    "document_moved": ("agenda", "documents"),
    "document_replaced": ("agenda", "documents", "presenting"),
    "document_pages_ready": (),  # nothing a client sees changes: the page URLs stay the same
    "document_text_ready": (),  # search and /text answer from it; the document view is the same
    "document_opened": (),
    "page_presented": ("presenting",),
    "presenting_stopped": ("presenting",),
}
