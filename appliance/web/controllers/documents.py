"""Documents: list, read metadata, page images, upload (more in doc_extras.py)."""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from appliance.core.errors import PhsError, refuse
from appliance.meeting.decide import Command
from appliance.meeting.model import DocumentMeta
from appliance.meeting.views import document_view, may_read
from appliance.web.auth import actor_of, device_of
from appliance.web.doc_service import new_document_id, record_args, services
from appliance.web.ranges import byte_range

MAX_UPLOAD = 200 * 1024 * 1024
MAX_FILES = 200  # photos of one paper document


def readable(request: Request[Any, Any, Any], doc_id: str) -> DocumentMeta:
    """A document the caller may read; an unknown id and a forbidden one look alike."""
    state = request.app.state.appliance.state
    doc = state.documents.get(doc_id)
    # An unknown id and a forbidden one look alike: a guessed URL learns nothing.
    if doc is None or not may_read(doc, actor_of(request), state):
        raise refuse("not_found", "Không có tài liệu này.", "No such document.")
    return doc  # type: ignore[no-any-return]


@get("/api/documents", opt={"permission": "document.read"})
async def list_documents(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The current documents this device may see (a replaced version is not listed)."""
    state = request.app.state.appliance.state
    actor = actor_of(request)
    appliance = request.app.state.appliance
    return {
        "documents": [
            view_of(appliance, d, actor)
            for d in state.documents.values()
            if d.replaced_by is None and may_read(d, actor, state)
        ]
    }


@get("/api/documents/{doc_id:str}", opt={"permission": "document.read"})
async def read_document(request: Request[Any, Any, Any], doc_id: str) -> dict[str, Any]:
    """One document's metadata; opening a confidential one is recorded."""
    doc = readable(request, doc_id)
    appliance = request.app.state.appliance
    await services(appliance).record_opening(doc, actor_of(request), device_of(request), "open")
    return {"document": view_of(appliance, doc, actor_of(request))}


async def _as_sent(app: ASGIApp) -> ASGIApp:
    """This route's after-request hook: its answer carries the security headers already (the
    app-wide hook edits a Response, and runs in a worker thread, as Litestar runs a plain function)."""
    return app


@get("/api/documents/{doc_id:str}/pages/{n:int}", opt={"permission": "document.read"}, after_request=_as_sent)
async def page_image(request: Request[Any, Any, Any], doc_id: str, n: int, size: str = "tablet") -> ASGIApp:
    """A page image: immutable, cached for a year on the tablet, revalidated by ETag.

    The hottest route of a sitting (every tablet, every page). The tablets' own requests are
    answered ahead of the router by ``appliance.web.fast_pages`` with this route's guard and
    ``page_answer``; Litestar still routes the other forms (HEAD, extra query parameters) here."""
    status, headers, body = await page_answer(request, doc_id, n, size)
    return raw_answer(status, headers, body)


CACHE_FOREVER = (b"cache-control", b"private, max-age=31536000, immutable")


@cache
def _security_raw() -> tuple[tuple[bytes, bytes], ...]:
    """The app's security headers, encoded once (not per page image)."""
    from appliance.web.app import SECURITY_HEADERS  # app.py imports this module

    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items())


def raw_answer(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> ASGIApp:
    """The answer as a bare ASGI app: security headers, the given ones, the length, the body once."""
    raw = [*_security_raw(), *headers]
    if status != 304:
        raw.append((b"content-length", b"%d" % len(body)))

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        start: HTTPResponseStartEvent = {"type": "http.response.start", "status": status, "headers": raw}
        await send(start)
        done: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
        await send(done)

    return answer


async def page_answer(request: Request[Any, Any, Any], doc_id: str, n: int, size: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, encoded headers and body of a page image, after every check of a document route.

    The caller has run the permission guard; who may see the page is decided here, on every
    request, from the current state (nothing about access is cached)."""
    doc = readable(request, doc_id)
    appliance = request.app.state.appliance
    svc = services(appliance)
    actor = actor_of(request)
    blob_id = await svc.rendition(doc, n, size, actor)
    if size != "thumb":
        await svc.record_opening(doc, actor, device_of(request), "page", n)
    etag = f'"{blob_id}"'
    headers = [CACHE_FOREVER, (b"etag", etag.encode("latin-1"))]
    asked = request.headers
    if asked.get("if-none-match") == etag:  # before any blob is read
        return 304, headers, b""
    body, media = svc.page_bytes(blob_id)  # one read and decrypt, then from memory
    total = len(body)
    try:
        span = byte_range(asked.get("range"), asked.get("if-range"), etag, total)
    except PhsError as err:
        refused = json.dumps(err.to_dict(), ensure_ascii=False).encode()
        return err.status, [(b"content-type", b"application/json"), (b"content-range", b"bytes */%d" % total)], refused
    headers += [(b"content-type", media.encode("latin-1")), (b"accept-ranges", b"bytes")]
    if span is None:
        return 200, headers, body
    start, end = span  # a resumed download
    headers.append((b"content-range", b"bytes %d-%d/%d" % (start, end - 1, total)))
    return 206, headers, body[start:end]


def _files(value: Any) -> list[UploadFile]:
    items = value if isinstance(value, list) else [value]
    files = [f for f in items if isinstance(f, UploadFile)]
    if not files or len(files) != len(items):
        raise refuse("invalid", "Hãy chọn tệp tài liệu.", "Choose a file to upload.")
    if len(files) > MAX_FILES:
        raise refuse("invalid", f"Tối đa {MAX_FILES} ảnh trong một tài liệu.", f"At most {MAX_FILES} images make one document.")
    return files


def _readers(value: Any) -> list[str] | None:
    """Named readers from a form field: a JSON list or comma-separated ids."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            raise refuse("invalid", message_en="'readers' is a JSON list of participant ids.") from None
        if not isinstance(parsed, list):
            raise refuse("invalid", message_en="'readers' is a JSON list of participant ids.")
        return [str(x) for x in parsed]
    return [part.strip() for part in text.split(",") if part.strip()]


def _flag(value: Any) -> bool:
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


async def _read_files(data: dict[str, Any]) -> list[tuple[str, bytes]]:
    return [(f.filename or "tai-lieu", await f.read()) for f in _files(data.get("file"))]


@post(
    "/api/documents",
    opt={"permission": "document.manage"},
    status_code=200,
    request_max_body_size=MAX_UPLOAD,
)
async def upload_document(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, Any]:
    """Upload a document to an agenda item; refused whole if it cannot be read."""
    files = await _read_files(data)
    try:
        item = int(str(data.get("item", "")))
    except ValueError:
        raise refuse("invalid", "Mục chương trình không hợp lệ.", "'item' must be a number.") from None
    appliance = request.app.state.appliance
    actor, device = actor_of(request), device_of(request)
    client_id = request.headers.get("idempotency-key")
    state = appliance.state
    access = str(data.get("access") or "delegates")
    readers = _readers(data.get("readers"))
    # Judge what can be judged before the (slow) ingest, so a bad form costs nothing.
    from appliance.meeting.decide import access_allowed, readers_of

    if (first := appliance.first_outcome(device, client_id)) is not None:
        return {"document": view_of(appliance, state.documents[(first.get("refs") or [""])[0]], actor)}
    if not 1 <= item <= len(state.agenda):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    if not access_allowed(state, access):
        raise refuse("invalid", "Mức truy cập không hợp lệ.", "Unknown access level.")
    readers_of(state, access, readers)
    svc = services(appliance)
    upload_id = str(data.get("upload_id") or "") or None
    password = data.get("password") or None
    doc_id = new_document_id()  # before the ingest: the document's blobs are sealed with its own key
    record, filename, background = await svc.ingest(files, str(password) if password else None, upload_id, doc_id=doc_id)
    args = {"id": doc_id, "item": item, "access": access, "filename": filename, "record": record_args(record),
            "readers": readers, "watermark": _flag(data.get("watermark"))}
    added = await _add(svc, actor, device, client_id, Command("add_document", args), doc_id, background, upload_id)
    return {"document": view_of(appliance, appliance.state.documents[added], actor)}


async def _add(svc: Any, actor: Any, device: str, client_id: str | None, command: Command, doc_id: str,
               background: Any, upload_id: str | None) -> str:
    """Journal the document as soon as page 1 is stored; its other pages and its text follow in the background."""
    try:
        outcome = await svc.app.execute(actor, command, device=device, client_id=client_id)
    except PhsError as err:
        svc.abandon(background)
        svc.finish_upload(upload_id, None, err)
        raise
    except BaseException:
        svc.abandon(background)
        raise
    added = str((outcome.get("refs") or [doc_id])[0])
    if added != doc_id:  # a retry with the same Idempotency-Key: the first upload's document stands
        svc.abandon(background)
        svc.finish_upload(upload_id, added, None)
    else:
        svc.follow(added, background, upload_id)
    return added


def view_of(appliance: Any, doc: DocumentMeta, actor: Any) -> dict[str, Any]:
    """A document as its readers see it, plus how many of its pages are still being rendered
    and whether its search text is still being extracted."""
    svc = services(appliance)
    return {**document_view(doc, appliance.state, actor), "pages_pending": svc.pages_pending(doc),
            "text_pending": svc.text_pending(doc)}


@post(
    "/api/documents/{doc_id:str}/replace",
    opt={"permission": "document.manage"},
    status_code=200,
    request_max_body_size=MAX_UPLOAD,
)
async def replace_document(
    request: Request[Any, Any, Any],
    doc_id: str,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, Any]:
    """A new version takes the old one's place; notes on the old version stay with it."""
    old = readable(request, doc_id)
    if old.replaced_by is not None:
        raise refuse("conflict", "Tài liệu này đã được thay bằng phiên bản mới.", "This document was already replaced.")
    files = await _read_files(data)
    appliance = request.app.state.appliance
    actor, device = actor_of(request), device_of(request)
    svc = services(appliance)
    upload_id = str(data.get("upload_id") or "") or None
    password = data.get("password") or None
    new_id = new_document_id()
    record, filename, background = await svc.ingest(files, str(password) if password else None, upload_id, doc_id=new_id)
    command = Command("replace_document", {"old_id": old.id, "id": new_id, "filename": filename, "record": record_args(record)})
    added = await _add(svc, actor, device, request.headers.get("idempotency-key"), command, new_id, background, upload_id)
    return {"document": view_of(appliance, appliance.state.documents[added], actor)}
