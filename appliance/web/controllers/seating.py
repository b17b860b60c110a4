"""Participants' import and edits, the seating plan, custom roles and check-in rules (issue 5).

Thin: the reading of lists is ``appliance.meeting.roster`` (shared with the USB
bundles), the rules are ``meeting.seating``, ``meeting.custom_roles`` and
``meeting.attendance_pin``, ``meeting.participants``. An import is one command, so a list goes in whole or not at all.
"""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

from litestar import Request, delete, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from appliance.core.errors import refuse
from appliance.core.ids import new_id
from appliance.meeting.custom_roles import role_names
from appliance.meeting.roster import against_existing, read_roster_bytes, resolve
from appliance.meeting.seating import seating_section
from appliance.web.auth import actor_of
from appliance.web.controllers import body_dict, run

MAX_LIST = 5 * 1024 * 1024


async def _list_file(data: dict[str, Any]) -> tuple[bytes, str]:
    upload = data.get("file")
    if not isinstance(upload, UploadFile):
        raise refuse("invalid", "Hãy chọn tệp danh sách (.xlsx hoặc .csv).", "Choose the list file (.xlsx or .csv).")
    content = await upload.read()
    if len(content) > MAX_LIST:
        raise refuse("payload_too_large")
    return content, upload.filename or "danh-sach.csv"


def _answers(value: Any) -> dict[str, str]:
    if value in (None, ""):
        return {}
    try:
        parsed = json.loads(str(value))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(v in ("same", "distinct") for v in parsed.values()):
        raise refuse("invalid", "Câu trả lời không hợp lệ.", "'answers' must map line numbers to 'same' or 'distinct'.")
    return {str(k): str(v) for k, v in parsed.items()}


@post("/api/participants/import", opt={"permission": "participant.manage"}, status_code=200, request_max_body_size=MAX_LIST + 65536)
async def import_participants(
    request: Request[Any, Any, Any],
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> dict[str, Any]:
    """Import a delegate list: every problem with its line, questions for rows only the
    secretary can tell apart, and nothing written until there are neither.

    Form fields: ``file``; ``answers`` (JSON ``{"LINE": "same"|"distinct"}``); ``preview``
    ("1": read and check only)."""
    content, filename = await _list_file(data)
    state = request.app.state.appliance.state
    roster = read_roster_bytes(content, filename, extra_roles=role_names(state))
    if not roster.problems:
        against_existing(roster, [p.model_dump() for p in state.participants.values()])
    rows, open_questions = resolve(roster, _answers(data.get("answers")))
    summary = {
        "file": filename,
        "rows": len(roster.participants),
        "problems": [p.as_dict() for p in roster.problems],
        "questions": [q.as_dict() for q in open_questions],
    }
    if roster.problems:
        lines = ", ".join(str(p.line) for p in roster.problems[:20])
        raise refuse(
            "invalid",
            f"Danh sách có {len(roster.problems)} lỗi (dòng {lines}); chưa nhập ai.",
            f"The list has {len(roster.problems)} problems (lines {lines}); nobody was imported.",
            **summary,
        )
    if str(data.get("preview", "")) == "1":
        return {**summary, "imported": 0, "participants": rows}
    if open_questions:
        raise refuse(
            "conflict",
            "Có người trùng tên cần thư ký xác nhận: một người hay hai người?",
            "Some rows share a name: say whether each is one person or two.",
            **summary,
        )
    clean = [{k: v for k, v in row.items() if v not in (None, "")} for row in rows]
    ids = [new_id("p_") for _ in clean]
    outcome = await run(request, "add_participants", {"participants": clean, "ids": ids})
    ids = list(outcome.get("refs") or ids)
    return {**summary, "imported": len(ids), "ids": ids}


@get("/api/seating", opt={"permission": "view"})
async def read_seating(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The plan (the ``seating`` section of the view)."""
    section: dict[str, Any] = seating_section(request.app.state.appliance.state, actor_of(request))
    return section


@post("/api/seating/plan", opt={"permission": "participant.manage"}, status_code=200)
async def set_plan(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Lay out the hall: ``{"sections": [{"shape": "presidium|rows|blocks|arc", ...}], "units"?}``."""
    body = body_dict(data)
    outcome = await run(request, "set_seating_plan", {"sections": body.get("sections"), "units": body.get("units")})
    return {"position": outcome["position"], "seating": seating_section(request.app.state.appliance.state, actor_of(request))}


@post("/api/seating/assign", opt={"permission": "participant.manage"}, status_code=200)
async def assign(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Seat participants: ``{"assignments": [{"participant_id", "seat": n | null}]}`` (a swap is one request)."""
    return await run(request, "assign_seats", {"assignments": body_dict(data).get("assignments")})


@post("/api/seating/auto", opt={"permission": "participant.manage"}, status_code=200)
async def auto(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Seat everyone still without a seat, in list order (presiding officers at the presidium)."""
    return await run(request, "auto_seat", {})


@post("/api/roles", opt={"permission": "participant.manage"}, status_code=200)
async def define_role(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Define or redefine a custom role: ``{"label", "label_en"?, "permissions": [...], "code"?}``."""
    body = body_dict(data)
    args: dict[str, Any] = {k: body.get(k) for k in ("label", "label_en", "permissions", "code") if k in body}
    outcome = await run(request, "define_role", args)
    state = request.app.state.appliance.state
    code = str(body.get("code") or "") or next(
        (r.code for r in state.custom_roles.values() if r.label == str(body.get("label", "")).strip()), ""
    )
    role = state.custom_roles.get(code)
    return {"position": outcome["position"], "role": role.model_dump() if role else None}


@post("/api/participants/{participant_id:str}/role", opt={"permission": "participant.manage"}, status_code=200)
async def set_role(request: Request[Any, Any, Any], participant_id: str, data: Any = None) -> dict[str, Any]:
    """Give a participant another role (built-in or custom)."""
    return await run(request, "set_role", {"participant_id": participant_id, "role": body_dict(data).get("role")})


@put("/api/participants/{participant_id:str}", opt={"permission": "participant.manage"}, status_code=200)
async def edit_participant(request: Request[Any, Any, Any], participant_id: str, data: Any = None) -> dict[str, Any]:
    """Correct a participant: any of ``{"name", "title", "unit", "team"}``; the others stay."""
    body = body_dict(data)
    args: dict[str, Any] = {k: body[k] for k in ("name", "title", "unit", "team") if k in body}
    outcome = await run(request, "edit_participant", {**args, "participant_id": participant_id})
    person = request.app.state.appliance.state.participants[participant_id]
    return {"position": outcome["position"], "participant": person.model_dump()}


@delete("/api/participants/{participant_id:str}", opt={"permission": "participant.manage"}, status_code=200)
async def remove_participant(request: Request[Any, Any, Any], participant_id: str) -> dict[str, Any]:
    """Remove a participant who is in no sitting's record; their paired devices are revoked."""
    state = request.app.state.appliance.state
    devices = sorted(d.id for d in state.devices.values() if d.participant_id == participant_id and not d.revoked)
    outcome = await run(request, "remove_participant", {"participant_id": participant_id})
    return {"position": outcome["position"], "removed": participant_id, "revoked": devices}


@post("/api/attendance/pin-rule", opt={"permission": "participant.manage"}, status_code=200)
async def pin_rule(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Require (or not) the delegate's PIN for a check-in from their own tablet: ``{"required": true}``."""
    return await run(request, "set_pin_rule", {"required": body_dict(data).get("required")})


@post("/api/attendance/pin", opt={"permission": "attendance.self"}, status_code=200)
async def set_own_pin(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A delegate sets their own PIN, once (``{"pin"}``); after that only the secretary changes it."""
    return await _pin(request, data, None)


@post("/api/attendance/{participant_id:str}/pin", opt={"permission": "participant.manage"}, status_code=200)
async def set_pin_for(request: Request[Any, Any, Any], participant_id: str, data: Any = None) -> dict[str, Any]:
    """The secretary sets or changes a participant's PIN: ``{"pin"}``."""
    return await _pin(request, data, participant_id)


async def _pin(request: Request[Any, Any, Any], data: Any, participant_id: str | None) -> dict[str, Any]:
    args: dict[str, Any] = {"pin": body_dict(data).get("pin"), "salt": secrets.token_hex(16)}
    if participant_id is not None:
        args["participant_id"] = participant_id
    result = await run(request, "set_pin", args)
    return {"ok": True, "position": result["position"]}

ROUTES = [
    import_participants, read_seating, set_plan, assign, auto, define_role, set_role,
    edit_participant, remove_participant, pin_rule, set_own_pin, set_pin_for,
]
