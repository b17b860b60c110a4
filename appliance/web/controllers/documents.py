"""Documents: list, read metadata, page images, upload."""

from __future__ import annotations

import json
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from appliance.core.errors import PhsError, refuse
from appliance.meeting.model import DocumentMeta
from appliance.meeting.views import document_view, may_read
from appliance.web.auth import actor_of, device_of
from appliance.web.ranges import byte_range

MAX_UPLOAD = 200 * 1024 * 1024


def _readable(request: Request[Any, Any, Any], doc_id: str) -> DocumentMeta:
    state = request.app.state.appliance.state
    doc = state.documents.get(doc_id)
    # An unknown id and a forbidden one look alike: a guessed URL learns nothing.
    if doc is None or not may_read(doc, actor_of(request), state):
        raise refuse("not_found", "Không có tài liệu này.", "No such document.")
    return doc  # type: ignore[no-any-return]


@get("/api/documents", opt={"permission": "document.read"})
async def list_documents(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The documents this device may see."""
    state = request.app.state.appliance.state
    actor = actor_of(request)
    return {"documents": [document_view(d, state) for d in state.documents.values() if may_read(d, actor, state)]}


@get("/api/documents/{doc_id:str}", opt={"permission": "document.read"})
async def read_document(request: Request[Any, Any, Any], doc_id: str) -> dict[str, Any]:
    """One document's metadata."""
    return {"document": document_view(_readable(request, doc_id), request.app.state.appliance.state)}


@get("/api/documents/{doc_id:str}/pages/{n:int}", opt={"permission": "document.read"})
async def page_image(request: Request[Any, Any, Any], doc_id: str, n: int, size: str = "tablet") -> Response[bytes]:
    """A page image: immutable, cached for a year on the tablet, revalidated by ETag."""
    doc = _readable(request, doc_id)
    blobs = doc.blobs.get(size)
    if not blobs or not 1 <= n <= len(blobs):
        raise refuse("not_found", "Không có trang này.", "No such page.")
    blob_id = blobs[n - 1]
    etag = f'"{blob_id}"'
    headers = {"Cache-Control": "private, max-age=31536000, immutable", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    store = request.app.state.appliance.blobs
    total = store.size(blob_id)
    head = store.get_range(blob_id, 0, 4)
    media = "image/webp" if head == b"RIFF" else ("image/png" if head == b"\x89PNG" else "image/jpeg")
    headers["Accept-Ranges"] = "bytes"
    try:
        span = byte_range(request.headers.get("range"), request.headers.get("if-range"), etag, total)
    except PhsError as err:
        body = json.dumps(err.to_dict(), ensure_ascii=False).encode()
        return Response(body, status_code=err.status, media_type="application/json", headers={"Content-Range": f"bytes */{total}"})
    if span is None:
        return Response(store.get(blob_id), media_type=media, headers=headers)
    start, end = span  # a resumed download: only the chunks it touches are decrypted
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{total}"
    return Response(store.get_range(blob_id, start, end), status_code=206, media_type=media, headers=headers)


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
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise refuse("invalid", "Hãy chọn tệp tài liệu.", "Choose a file to upload.")
    try:
        item = int(str(data.get("item", "")))
    except ValueError:
        raise refuse("invalid", "Mục chương trình không hợp lệ.", "'item' must be a number.") from None
    content = await upload.read()
    password = data.get("password") or None
    appliance = request.app.state.appliance
    created = await appliance.add_document(
        actor_of(request),
        content,
        upload.filename or "tai-lieu",
        item,
        str(data.get("access") or "delegates"),
        str(password) if password else None,
        request.headers.get("idempotency-key"),
        device_of(request),
    )
    doc = appliance.state.documents[created["id"]]
    return {"document": document_view(doc, appliance.state)}
