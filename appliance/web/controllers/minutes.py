"""Minutes (biên bản) for the secretary and chair; archive status and receipts for the technician."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get, post, put

from appliance.archive import after_sitting
from appliance.meeting.decide import Command
from appliance.meeting.roles import Actor
from appliance.web.auth import LOCAL, actor_of, device_of
from appliance.web.controllers import body_dict, run

PDF = "application/pdf"
# The sync program on the local socket may record receipts and nothing else.
SYNC_ACTOR = Actor("sync", "local", frozenset({"archive.manage"}))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _file(data: bytes, media: str, name: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@get("/api/minutes/{sitting_id:str}", opt={"permission": "minutes.read"})
async def minutes_status(request: Request[Any, Any, Any], sitting_id: str) -> dict[str, Any]:
    """The conclusions, whether the minutes are final, and the archive receipts."""
    return after_sitting.status(request.app.state.appliance, sitting_id)


@get("/api/minutes/{sitting_id:str}/draft/{fmt:str}", opt={"permission": "minutes.read"})
async def minutes_draft(request: Request[Any, Any, Any], sitting_id: str, fmt: str) -> Response[bytes]:
    """The draft rebuilt from the journal now (PDF or DOCX); once final, the frozen files."""
    appliance = request.app.state.appliance
    book = appliance.state.minutes.get(sitting_id)
    if book is not None and book.final is not None:
        files = after_sitting.final_files(appliance, sitting_id)
        pdf, docx = files["pdf"], files["docx"]
    else:
        pdf, docx, _ = await asyncio.to_thread(after_sitting.draft, appliance.settings.data_dir, appliance.keyring, sitting_id)
    if fmt == "docx":
        return _file(docx, DOCX, f"bien-ban-{sitting_id}.docx")
    return _file(pdf, PDF, f"bien-ban-{sitting_id}.pdf")


@put("/api/minutes/{sitting_id:str}/conclusions", opt={"permission": "minutes.manage"})
async def set_conclusions(request: Request[Any, Any, Any], sitting_id: str, data: Any = None) -> dict[str, Any]:
    """The secretary edits the chair's conclusions (and the place) before finalising."""
    body = body_dict(data)
    args = {"sitting_id": sitting_id, "conclusions": body.get("conclusions", ""), "place": body.get("place", "")}
    outcome = await run(request, "set_minutes_conclusions", args)
    return {"ok": True, "position": outcome["position"]}


@post("/api/minutes/{sitting_id:str}/finalise", opt={"permission": "minutes.manage"}, status_code=200)
async def finalise(request: Request[Any, Any, Any], sitting_id: str) -> dict[str, Any]:
    """Freeze the minutes: hashes and the box's signature into the journal; seal the archive if keyed."""
    return await after_sitting.finalise(request.app.state.appliance, actor_of(request), sitting_id, device_of(request))


@get("/api/archive/status", opt={"permission": "archive.manage"})
async def archive_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Sync progress, archives waiting, receipts and when each sitting's key goes (no content)."""
    from appliance.sync.status import technician_status

    appliance = request.app.state.appliance
    return await asyncio.to_thread(technician_status, appliance.settings, appliance.state)


@post("/api/archive/receipts", opt={"permission": "archive.manage"}, status_code=200)
async def record_receipt(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """``phs sync`` (or a USB receipt import) reports that the archive holds a sitting."""
    body = body_dict(data)
    keys = ("sitting_id", "manifest_sha256", "target", "key", "checksum")
    outcome = await run(request, "record_archive_receipt", {k: body.get(k) for k in keys})
    return {"ok": True, "position": outcome["position"], "changed": outcome.get("changed", True)}


@post("/api/local/archive/receipts", opt={"permission": LOCAL}, status_code=200)
async def record_receipt_local(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The same report from ``phs sync`` over the local socket (no device credential needed)."""
    body = body_dict(data)
    keys = ("sitting_id", "manifest_sha256", "target", "key", "checksum")
    command = Command("record_archive_receipt", {k: body.get(k) for k in keys})
    outcome = await request.app.state.appliance.execute(SYNC_ACTOR, command, device="local")
    return {"ok": True, "position": outcome["position"], "changed": outcome.get("changed", True)}


ROUTES = [minutes_status, minutes_draft, set_conclusions, finalise, archive_status, record_receipt, record_receipt_local]
