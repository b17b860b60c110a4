"""Minutes (biên bản) for the secretary and chair; archive status and receipts for the technician."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get, post, put
from litestar.response import File

from appliance.archive import after_sitting
from appliance.core.errors import refuse
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
    """The draft rebuilt from the journal now (PDF or DOCX); once final, the frozen files and their signature."""
    appliance = request.app.state.appliance
    if fmt not in ("pdf", "docx", "sig"):
        raise refuse("not_found", "Không có định dạng này (pdf, docx, sig).", "No such format (pdf, docx, sig).")
    book = appliance.state.minutes.get(sitting_id)
    if fmt == "sig" or (book is not None and book.final is not None):
        files = after_sitting.final_files(appliance, sitting_id)  # not_found until the minutes are final
    else:
        pdf, docx, _ = await asyncio.to_thread(after_sitting.draft, appliance.settings.data_dir, appliance.keyring, sitting_id)
        files = {"pdf": pdf, "docx": docx}
    if fmt == "sig":
        return _file(files["sig"], "application/json", f"bien-ban-{sitting_id}.pdf.sig")
    if fmt == "docx":
        return _file(files["docx"], DOCX, f"bien-ban-{sitting_id}.docx")
    return _file(files["pdf"], PDF, f"bien-ban-{sitting_id}.pdf")


@put("/api/minutes/{sitting_id:str}/conclusions", opt={"permission": "minutes.manage"})
async def set_conclusions(request: Request[Any, Any, Any], sitting_id: str, data: Any = None) -> dict[str, Any]:
    """The secretary edits the chair's conclusions (and the place) before finalising."""
    body = body_dict(data)
    args = {"sitting_id": sitting_id, "conclusions": body.get("conclusions", ""), "place": body.get("place", "")}
    outcome = await run(request, "set_minutes_conclusions", args)
    return {"ok": True, "position": outcome["position"]}


@put("/api/minutes/{sitting_id:str}/absences", opt={"permission": "minutes.manage"})
async def note_absence(request: Request[Any, Any, Any], sitting_id: str, data: Any = None) -> dict[str, Any]:
    """The secretary records why a delegate is absent (vắng mặt có lý do); an empty reason withdraws it."""
    body = body_dict(data)
    args = {"sitting_id": sitting_id, "participant_id": body.get("participant_id"), "reason": body.get("reason", "")}
    outcome = await run(request, "note_absence", args)
    return {"ok": True, "position": outcome["position"]}


@post("/api/minutes/{sitting_id:str}/finalise", opt={"permission": "minutes.manage"}, status_code=200)
async def finalise(request: Request[Any, Any, Any], sitting_id: str, data: Any = None) -> dict[str, Any]:
    """Freeze the minutes: hashes and the box's signature into the journal; seal the archive if keyed.

    ``token_pin`` unlocks the secretary's signature token when one is configured; it is
    handed to the token once and never stored or logged.
    """
    pin = body_dict(data).get("token_pin")
    if pin is not None and (not isinstance(pin, str) or len(pin) > 64):
        raise refuse("invalid", "Mã PIN không hợp lệ.", "The token PIN is not valid.")
    return await after_sitting.finalise(request.app.state.appliance, actor_of(request), sitting_id, device_of(request),
                                        pin=pin)


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


@get("/api/local/archive/exports", opt={"permission": LOCAL})
async def exports_local(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Sealed archives still waiting for a receipt, for ``phs devices`` to copy onto a stick."""
    appliance = request.app.state.appliance
    return {"archives": await asyncio.to_thread(after_sitting.pending_exports, appliance.settings.data_dir, appliance.state)}


@get("/api/local/archive/exports/{name:str}", opt={"permission": LOCAL})
async def export_file_local(request: Request[Any, Any, Any], name: str) -> File:
    """One sealed archive's bytes (already encrypted for the archive: nothing readable leaves)."""
    appliance = request.app.state.appliance
    listed = await asyncio.to_thread(after_sitting.pending_exports, appliance.settings.data_dir, appliance.state)
    if name not in {a["file"] for a in listed}:
        raise refuse("not_found", "Không có tệp lưu trữ này.", "No such archive waiting for export.")
    path = after_sitting.outbox_dir(appliance.settings.data_dir) / name
    return File(path=path, filename=name, media_type="application/octet-stream")


@post("/api/local/archive/usb-receipts", opt={"permission": LOCAL}, status_code=200)
async def usb_receipt_local(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A receipt the archive side wrote on a stick: recorded once its MAC matches one of our builds."""
    from appliance.archive.receipts import check_receipt

    appliance = request.app.state.appliance
    record = await asyncio.to_thread(check_receipt, appliance.settings.data_dir, appliance.keyring, body_dict(data))
    outcome = await appliance.execute(SYNC_ACTOR, Command("record_archive_receipt", record), device="local")
    return {"ok": True, "sitting_id": record["sitting_id"], "position": outcome["position"],
            "changed": outcome.get("changed", True)}


ROUTES = [minutes_status, minutes_draft, set_conclusions, note_absence, finalise, archive_status, record_receipt,
          record_receipt_local, exports_local, export_file_local, usb_receipt_local]
