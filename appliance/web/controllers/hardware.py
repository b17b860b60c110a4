"""The hall's hardware: the local API `phs devices` uses over DATA/run/local.sock, and
the technician's view of units and display outputs.

Local routes declare the permission ``local``: the guard lets them through only for a
request that arrived on the unix socket (``appliance.web.local``), never over TCP, so a
tablet cannot pretend to be a delegate unit. Hardware events enter the same command
path as tablets: a unit's button is that seat's delegate pressing "request", a keypad
key is that delegate's ballot in the open poll.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, get, post

from appliance.core.errors import refuse
from appliance.meeting.decide import Command
from appliance.meeting.roles import Actor
from appliance.meeting.seating import participant_at_unit
from appliance.web.controllers import body_dict
from appliance.web.hall import board_of
from appliance.web.hardware import VIEWS, plan

log = logging.getLogger("phs.hardware")

LOCAL = "local"
UNIT_EVENTS = ("press", "key", "online", "offline")


def _seat_actor(request: Request[Any, Any, Any], unit: str) -> Actor:
    """The participant at the seat wired to ``unit`` (the seat number unless the plan says otherwise)."""
    p = participant_at_unit(request.app.state.appliance.state, unit)
    if p is None:
        raise refuse("not_found", "Không có đại biểu ở ghế này.", f"Nobody sits at the seat of unit {unit}.", seat=unit)
    return Actor.for_role(p.id, p.role)


@post("/api/local/units/event", opt={"permission": LOCAL}, status_code=200)
async def unit_event(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A delegate unit's event: ``{"seat", "type": "press"|"key"|"online"|"offline", "key"?}``.

    ``seat`` names the unit as the devices program knows it (its bus address or id)."""
    body = body_dict(data)
    seat = str(body.get("seat", ""))[:10]
    kind = body.get("type")
    if not seat or kind not in UNIT_EVENTS:
        raise refuse("invalid", "Sự kiện thiết bị không hợp lệ.", "type must be press, key, online or offline.")
    appliance = request.app.state.appliance
    board = board_of(appliance)
    board.note(seat, str(kind))
    if kind in ("online", "offline"):
        log.info("unit %s", kind, extra={"seat": seat})
        return {"ok": True, "changed": False}
    actor = _seat_actor(request, seat)
    client = body.get("client_id")
    client_id = str(client)[:100] if isinstance(client, str) else None
    if kind == "press":
        result: dict[str, Any] = await appliance.execute(actor, Command("unit_press", {}), device=f"unit:{seat}", client_id=client_id)
        return result
    key = body.get("key")
    poll = plan(appliance.state)["poll"]
    if poll is None:
        raise refuse("poll_closed")
    answers = poll["answers"]
    if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= len(answers):
        raise refuse("invalid", "Phím biểu quyết không hợp lệ.", "No answer for that key.")
    command = Command("vote", {"poll_id": poll["id"], "answer": answers[key - 1]})
    vote: dict[str, Any] = await appliance.execute(actor, command, device=f"unit:{seat}", client_id=client_id)
    return vote


@get("/api/local/plan", opt={"permission": LOCAL})
async def floor_plan(request: Request[Any, Any, Any], after: int = -1, wait: float = 0.0) -> dict[str, Any]:
    """The seats to open and light; with ``wait`` a long-poll until the state passes ``after``."""
    board = board_of(request.app.state.appliance)
    return await board.wait_plan(after, max(0.0, min(float(wait), 30.0)))


@post("/api/local/status", opt={"permission": LOCAL}, status_code=200)
async def hardware_status(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """`phs devices` reports its units and display outputs; answered with display assignments."""
    board = board_of(request.app.state.appliance)
    board.report(body_dict(data))
    return {"ok": True, "assignments": dict(board.assignments)}


@get("/api/devices", opt={"permission": "device.manage"})
async def technician_view(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Units with their state and the last events, display outputs and their views."""
    return board_of(request.app.state.appliance).technician_view()


@post("/api/devices/displays", opt={"permission": "device.manage"}, status_code=200)
async def assign_display(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Show a view on a display output: ``{"connector": "HDMI-A-1", "view": "hall|seating|speaker"}``."""
    body = body_dict(data)
    connector, view = body.get("connector"), body.get("view")
    if not isinstance(connector, str) or not connector.strip() or len(connector) > 40 or view not in VIEWS:
        raise refuse("invalid", "Cổng hoặc màn hình không hợp lệ.", "connector must be named and view one of hall, seating, speaker.")
    board = board_of(request.app.state.appliance)
    board.assignments[connector.strip()] = str(view)
    if connector.strip() in board.displays:
        board.displays[connector.strip()]["view"] = str(view)
    return {"ok": True, "assignments": dict(board.assignments)}


ROUTES = [unit_event, floor_plan, hardware_status, technician_view, assign_display]
