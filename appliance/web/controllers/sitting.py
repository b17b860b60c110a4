"""The sitting: open and close, attendance, the current item, the floor."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from appliance.web.controllers import body_dict, run


@post("/api/sitting/open", opt={"permission": "sitting.manage"}, status_code=200)
async def open_sitting(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The chair opens the sitting, confirming the date and time."""
    return await run(request, "open_sitting", body_dict(data))


@post("/api/sitting/close", opt={"permission": "sitting.manage"}, status_code=200)
async def close_sitting(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The chair closes the sitting; open polls close and speeches end."""
    return await run(request, "close_sitting", body_dict(data))


@post("/api/attendance/check-in", opt={"permission": "attendance.self"}, status_code=200)
async def check_in(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A delegate checks in from their own tablet (điểm danh)."""
    return await run(request, "check_in", body_dict(data))


@post("/api/attendance/check-out", opt={"permission": "attendance.self"}, status_code=200)
async def check_out(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A delegate checks out from their own tablet."""
    return await run(request, "check_out", body_dict(data))


@post("/api/attendance/{participant_id:str}/check-in", opt={"permission": "attendance.manage"}, status_code=200)
async def check_in_for(request: Request[Any, Any, Any], participant_id: str) -> dict[str, Any]:
    """The secretary or chair checks a delegate in."""
    return await run(request, "check_in", {"participant_id": participant_id})


@post("/api/attendance/{participant_id:str}/check-out", opt={"permission": "attendance.manage"}, status_code=200)
async def check_out_for(request: Request[Any, Any, Any], participant_id: str) -> dict[str, Any]:
    """The secretary or chair checks a delegate out."""
    return await run(request, "check_out", {"participant_id": participant_id})


@post("/api/agenda/current", opt={"permission": "agenda.run"}, status_code=200)
async def start_item(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Move the sitting to an agenda item (1-based)."""
    return await run(request, "start_item", body_dict(data))


@post("/api/floor/request", opt={"permission": "floor.request"}, status_code=200)
async def request_floor(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Ask to speak or to rebut."""
    return await run(request, "request_floor", body_dict(data))


@post("/api/floor/withdraw", opt={"permission": "floor.request"}, status_code=200)
async def withdraw_floor(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Cancel one's request."""
    return await run(request, "withdraw_floor", body_dict(data))


@post("/api/floor/grant", opt={"permission": "floor.manage"}, status_code=200)
async def grant_floor(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Give the floor to a participant or to the next in the queue."""
    return await run(request, "grant_floor", body_dict(data))


@post("/api/floor/end", opt={"permission": "floor.manage"}, status_code=200)
async def end_floor(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """End a speech, or all of them."""
    return await run(request, "end_floor", body_dict(data))
