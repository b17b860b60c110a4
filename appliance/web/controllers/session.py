"""Session set-up, participants, agenda, pairing, and reads of the state."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from appliance import __version__
from appliance.core.errors import refuse
from appliance.core.ids import new_id
from appliance.meeting.views import view_for
from appliance.pairing.qr import qr_svg
from appliance.web.auth import COOKIE, PUBLIC, actor_of, device_of
from appliance.web.controllers import body_dict, run


@get("/api/health", opt={"permission": PUBLIC})
async def health() -> dict[str, Any]:
    """Liveness for supervisors and the scenario runner."""
    return {"ok": True, "version": __version__}


@post("/api/pair", opt={"permission": PUBLIC}, status_code=200)
async def pair(request: Request[Any, Any, Any], data: Any = None) -> Response[dict[str, Any]]:
    """Claim a one-time code; the credential comes back as a cookie and in the body."""
    body = body_dict(data)
    code = body.get("code")
    if not isinstance(code, str | int) or not str(code).strip():
        raise refuse("invalid", "Hãy nhập mã ghép nối.", "Enter the pairing code.")
    address = request.client.host if request.client else "unknown"
    key = body.get("device_key") or ""  # the tablet's public key (pairing/device_keys.py)
    if not isinstance(key, str):
        raise refuse("invalid", "Khóa thiết bị không hợp lệ.", "The device key is not valid.")
    if key:
        from appliance.pairing.device_keys import parse_public_key

        if parse_public_key(key) is None:
            raise refuse("invalid", "Khóa thiết bị không hợp lệ.", "The device key is not valid.")
    result = await request.app.state.appliance.pair(str(code), address, key)
    response = Response(result, status_code=200)
    response.set_cookie(
        COOKIE,
        result["token"],
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=60 * 60 * 24 * 30,
        path="/",
    )
    return response


@get("/api/me", opt={"permission": "view"})
async def me(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Who this device belongs to and what it may do."""
    actor = actor_of(request)
    state = request.app.state.appliance.state
    participant = state.participants.get(actor.participant_id or "")
    return {
        "device_id": device_of(request),
        "participant": participant.model_dump() if participant else None,
        "role": actor.role,
        "permissions": sorted(actor.permissions),  # a custom role's too
    }


@get("/api/state", opt={"permission": "view"})
async def state_view(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The whole view for this device's role."""
    return view_for(request.app.state.appliance.state, actor_of(request))


@post("/api/setup", opt={"permission": "session.manage"}, status_code=200)
async def setup(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Name the body and the session and plan its sittings."""
    return await run(request, "setup", body_dict(data))


@get("/api/participants", opt={"permission": "view"})
async def participants(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The participant list."""
    view = view_for(request.app.state.appliance.state, actor_of(request))
    return {"participants": view["participants"]}


@post("/api/participants", opt={"permission": "participant.manage"}, status_code=200)
async def add_participants(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Add participants; all rows or none."""
    body = body_dict(data)
    rows = body.get("participants")
    if not isinstance(rows, list):
        raise refuse("invalid", "Thiếu danh sách 'participants'.", "'participants' must be a list.")
    ids = [new_id("p_") for _ in rows]
    outcome = await run(request, "add_participants", {"participants": rows, "ids": ids})
    ids = list(outcome.get("refs") or ids)  # a retry answers with the first request's participants
    state = request.app.state.appliance.state
    return {"participants": [state.participants[i].model_dump() for i in ids]}


@post("/api/agenda", opt={"permission": "agenda.manage"}, status_code=200)
async def add_item(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Add an agenda item."""
    body = body_dict(data)
    item_id = new_id("i_")
    outcome = await run(request, "add_agenda_item", {"title": body.get("title", ""), "id": item_id})
    item_id = str(outcome.get("ref") or item_id)
    agenda = request.app.state.appliance.state.agenda
    n = next(i + 1 for i, it in enumerate(agenda) if it.id == item_id)
    return {"item": {"n": n, "id": item_id, "title": agenda[n - 1].title}}


@post("/api/pairing-codes", opt={"permission": "device.pair"}, status_code=200)
async def pairing_code(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A one-time code (and QR) for one participant's device."""
    body = body_dict(data)
    appliance = request.app.state.appliance
    issued = await appliance.issue_code(actor_of(request), str(body.get("participant_id", "")))
    base = str(request.base_url).rstrip("/")
    url = f"{base}/ui/?code={issued['code']}"
    return {**issued, "pair_url": url, "qr_svg": qr_svg(url)}
