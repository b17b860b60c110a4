"""More document routes: originals, text, search, upload progress, access, order,
"follow me", the confidential-openings record, and a delegate's private notes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from litestar import Request, Response, delete, get, post, put

from appliance.core.errors import refuse
from appliance.documents.notes import clean_note, export_pdf
from appliance.meeting.decide import Command
from appliance.meeting.views import document_view, may_download, may_read
from appliance.web.auth import actor_of, device_of
from appliance.web.controllers.documents import readable, replace_document
from appliance.web.doc_service import services


def _app(request: Request[Any, Any, Any]) -> Any:
    return request.app.state.appliance


async def _run(request: Request[Any, Any, Any], command: str, args: dict[str, Any]) -> dict[str, Any]:
    appliance = _app(request)
    result: dict[str, Any] = await appliance.execute(
        actor_of(request), Command(command, args), device=device_of(request), client_id=request.headers.get("idempotency-key")
    )
    return result


@get("/api/documents/{doc_id:str}/original", opt={"permission": "document.download"})
async def original(request: Request[Any, Any, Any], doc_id: str) -> Response[bytes]:
    """The uploaded file itself, for roles allowed to download it; others read page images."""
    doc = readable(request, doc_id)
    actor = actor_of(request)
    if not may_download(doc, actor):
        raise refuse("forbidden", "Tài liệu có dấu bản quyền người đọc chỉ xem được trên máy tính bảng.",
                     "A watermarked document can only be read as page images.")
    appliance = _app(request)
    svc = services(appliance)
    svc.check_content(doc)  # an erased document's opening is not recorded: nothing is served
    await svc.record_opening(doc, actor, device_of(request), "original")
    data = svc.original(doc)
    name = doc.filename or "tai-lieu"
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name) or "document"
    return Response(
        data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "private, no-store",
        },
    )


@get("/api/documents/{doc_id:str}/text", opt={"permission": "document.read"})
async def page_text(request: Request[Any, Any, Any], doc_id: str, page: int = 1) -> dict[str, Any]:
    """A page's extracted text and words with positions, for selecting text on the image.

    ``pending`` is true while the document's text layer is being extracted: the page's text
    is then extracted on its own, and search does not find the document yet."""
    doc = readable(request, doc_id)
    if not 1 <= page <= doc.pages:
        raise refuse("not_found", "Không có trang này.", "No such page.")
    svc = services(_app(request))
    pending = svc.text_pending(doc)
    info = await svc.page_text(doc, page)
    width, height = (doc.sizes[page - 1] + [0.0, 0.0])[:2] if len(doc.sizes) >= page else (0.0, 0.0)
    return {
        "page": page,
        "width": width,
        "height": height,
        "text": info.text if info else "",
        "words": [list(w) for w in info.words] if info else [],
        "pending": pending,
    }


@get("/api/documents/search", opt={"permission": "document.read"})
async def search_documents(request: Request[Any, Any, Any], q: str = "", document: str | None = None) -> dict[str, Any]:
    """Find a phrase without typing diacritics: "ngan sach" finds "ngân sách".

    ``pending`` lists the documents searched whose text is still being extracted (a long
    upload's, for a few seconds): no hits from them yet; ask again."""
    if len(q) > 200:
        raise refuse("invalid", "Cụm từ tìm kiếm quá dài.", "The search phrase is too long (200 characters at most).")
    hits, pending = services(_app(request)).search(actor_of(request), q, document)
    return {"query": q, "hits": hits, "pending": pending}


@get("/api/documents/uploads/{upload_id:str}", opt={"permission": "document.manage"})
async def upload_progress(request: Request[Any, Any, Any], upload_id: str) -> dict[str, Any]:
    """How far the box is with an upload (pages rendered of all), for the secretary's progress bar."""
    entry = services(_app(request)).uploads.get(upload_id[:100])
    if entry is None:
        raise refuse("not_found")
    return {k: v for k, v in entry.items() if k != "started"}


@post("/api/documents/{doc_id:str}/access", opt={"permission": "document.manage"}, status_code=200)
async def set_access(request: Request[Any, Any, Any], doc_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Change who may read a document: level, named readers, per-viewer watermark."""
    readable(request, doc_id)
    args: dict[str, Any] = {"id": doc_id}
    args.update({k: data[k] for k in ("access", "readers", "watermark") if k in data})
    await _run(request, "set_document_access", args)
    appliance = _app(request)
    return {"document": document_view(appliance.state.documents[doc_id], appliance.state, actor_of(request))}


@post("/api/documents/{doc_id:str}/move", opt={"permission": "document.manage"}, status_code=200)
async def move_document(request: Request[Any, Any, Any], doc_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Put a document at another place in its item's reading order (or in another item)."""
    readable(request, doc_id)
    args: dict[str, Any] = {"id": doc_id}
    args.update({k: data[k] for k in ("item", "position") if k in data})
    await _run(request, "move_document", args)
    appliance = _app(request)
    return {"document": document_view(appliance.state.documents[doc_id], appliance.state, actor_of(request))}


@post("/api/documents/{doc_id:str}/present", opt={"permission": "document.present"}, status_code=200)
async def present_page(request: Request[Any, Any, Any], doc_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Show a page on every screen whose viewer may read the document ("follow me")."""
    await _run(request, "present_page", {"id": doc_id, "page": data.get("page", 1)})
    from appliance.meeting.doc_views import presenting_section

    return {"presenting": presenting_section(_app(request).state, actor_of(request))}


@post("/api/documents/present/stop", opt={"permission": "document.present"}, status_code=200)
async def stop_presenting(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Stop showing a page; tablets stay where they are."""
    await _run(request, "stop_presenting", {})
    return {"presenting": None}


@get("/api/documents/openings", opt={"permission": "document.audit"})
async def openings(request: Request[Any, Any, Any], document: str | None = None) -> dict[str, Any]:
    """Who opened which confidential document, and when (the chair's and the secretary's check)."""
    return {"openings": services(_app(request)).openings(document)}


# -- notes ------------------------------------------------------------------------


def _groups_of(appliance: Any, participant_id: str | None) -> list[str]:
    if participant_id is None:
        return []
    return list(appliance.state.groups.member_of(participant_id))


def _note_view(appliance: Any, note: dict[str, Any], viewer: str | None) -> dict[str, Any]:
    state = appliance.state
    author = state.participants.get(note["author"])
    doc = state.documents.get(note["document"])
    return {
        **note,
        "author_name": author.name if author else None,
        "mine": note["author"] == viewer,
        "stale": bool(doc is not None and doc.replaced_by is not None),
    }


def _related(appliance: Any, doc_id: str) -> list[str]:
    """A document and its earlier versions: notes on an old version come along, flagged stale."""
    out = [doc_id]
    doc = appliance.state.documents.get(doc_id)
    while doc is not None and doc.replaces and doc.replaces not in out:
        out.append(doc.replaces)
        doc = appliance.state.documents.get(doc.replaces)
    return out


@get("/api/annotations", opt={"permission": "note.write"})
async def list_notes(request: Request[Any, Any, Any], document: str, since: int = 0) -> dict[str, Any]:
    """The caller's own notes on a document (and its earlier versions) and notes shared with their groups."""
    readable(request, document)
    appliance = _app(request)
    actor = actor_of(request)
    store = services(appliance).notes
    state = appliance.state
    docs = [d for d in _related(appliance, document) if may_read(state.documents[d], actor, state)]
    notes = store.visible(actor.participant_id or "", docs, _groups_of(appliance, actor.participant_id), since)
    return {"annotations": [_note_view(appliance, n, actor.participant_id) for n in notes], "rev": store.rev}


@put("/api/annotations/{note_id:str}", opt={"permission": "note.write"}, status_code=200)
async def put_note(request: Request[Any, Any, Any], note_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Create or change one of the caller's notes; a resend with the same id is harmless."""
    actor = actor_of(request)
    if actor.participant_id is None:
        raise refuse("forbidden")
    doc = readable(request, str(data.get("document", "")))
    appliance = _app(request)
    fields = clean_note(data, doc.sizes or [[1e5, 1e5]] * doc.pages)
    shared = fields.get("shared_with")
    if shared is not None and shared not in _groups_of(appliance, actor.participant_id):
        raise refuse("forbidden", "Chỉ chia sẻ được với nhóm mình tham gia.", "You can share a note only with a group you belong to.")
    note = services(appliance).notes.put(actor.participant_id, note_id, fields, appliance.clock.now().wall)
    return {"annotation": _note_view(appliance, note, actor.participant_id)}


@delete("/api/annotations/{note_id:str}", opt={"permission": "note.write"}, status_code=200)
async def delete_note(request: Request[Any, Any, Any], note_id: str) -> dict[str, Any]:
    """Delete one of the caller's notes (a tombstone the other devices sync)."""
    actor = actor_of(request)
    appliance = _app(request)
    note = services(appliance).notes.delete(actor.participant_id or "", note_id, appliance.clock.now().wall)
    return {"annotation": _note_view(appliance, note, actor.participant_id)}


@get("/api/annotations/export", opt={"permission": "note.write"})
async def export_notes(request: Request[Any, Any, Any], document: str) -> Response[bytes]:
    """The document as a PDF with the caller's own notes on it (for the delegate only)."""
    doc = readable(request, document)
    actor = actor_of(request)
    appliance = _app(request)
    svc = services(appliance)
    if doc.watermark and not actor.can("document.manage"):
        raise refuse("forbidden", "Tài liệu có dấu bản quyền người đọc không xuất ra PDF được.",
                     "A watermarked document cannot be exported as a PDF.")
    from appliance.documents.pipeline import run_in_pool

    notes = svc.notes.of_author(actor.participant_id or "", doc.id)
    me = appliance.state.participants.get(actor.participant_id or "")
    pdf = await run_in_pool(export_pdf, await svc.pdf_of(doc), notes, me.name if me else "")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", (doc.filename or "tai-lieu").rsplit(".", 1)[0]) or "document"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{stem}-ghi-chu.pdf"', "Cache-Control": "private, no-store"},
    )


ROUTES: list[Any] = [
    search_documents,
    upload_progress,
    openings,
    stop_presenting,
    original,
    page_text,
    set_access,
    move_document,
    present_page,
    replace_document,
    list_notes,
    put_note,
    delete_note,
    export_notes,
]
