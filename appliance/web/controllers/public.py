"""The optional public display URL: ``GET /api/public`` without a credential, when enabled."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post

from appliance.core.errors import refuse
from appliance.meeting.public_view import public_view
from appliance.web.auth import PUBLIC
from appliance.web.controllers import body_dict, run


@get("/api/public", opt={"permission": PUBLIC})
async def public_state(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Public facts only (see ``meeting.public_view``); ``not_found`` while the secretary has it off."""
    state = request.app.state.appliance.state
    if not state.hall_options.public_display:
        raise refuse("not_found", "Màn hình công khai chưa được bật.", "The public display is not enabled.")
    return public_view(state)


@post("/api/public/enabled", opt={"permission": "session.manage"}, status_code=200)
async def set_enabled(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Turn the public display on or off: ``{"enabled": true}``."""
    return await run(request, "set_public_display", {"enabled": body_dict(data).get("enabled")})


ROUTES = [public_state, set_enabled]
