"""The chair's floor controls beyond request/grant/end: move, extend, microphone mode,
speaking-time settings, and a speaker finishing early."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from appliance.web.controllers import body_dict, run


@post("/api/floor/move", opt={"permission": "floor.manage"}, status_code=200)
async def move_request(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Move a waiting request up or down: ``{"participant_id", "direction": "up" | "down"}``."""
    return await run(request, "move_request", body_dict(data))


@post("/api/floor/extend", opt={"permission": "floor.manage"}, status_code=200)
async def extend_floor(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Give a speaker more time: ``{"to", "seconds"}``."""
    return await run(request, "extend_floor", body_dict(data))


@post("/api/floor/mic-mode", opt={"permission": "floor.manage"}, status_code=200)
async def set_mic_mode(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Microphone policy: ``{"mode": "request|open|override|chair_only", "max_open": 1..25}``."""
    return await run(request, "set_mic_mode", body_dict(data))


@post("/api/floor/limits", opt={"permission": "floor.manage"}, status_code=200)
async def set_limits(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Speaking time: ``{"item"?, "limits": {"speak": 420, ...}, "warn_s"?, "auto_off"?}``."""
    return await run(request, "set_speech_limits", body_dict(data))


@post("/api/floor/stop", opt={"permission": "floor.request"}, status_code=200)
async def stop_speaking(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A speaker finishes early and switches their own microphone off."""
    return await run(request, "stop_speaking", body_dict(data))


ROUTES = [move_request, extend_floor, set_mic_mode, set_limits, stop_speaking]
