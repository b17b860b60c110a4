"""HTTP controllers, one module per area; thin: they call the service."""

from __future__ import annotations

from typing import Any

from litestar import Request

from appliance.meeting.decide import Command
from appliance.web.auth import actor_of, device_of


def body_dict(data: Any) -> dict[str, Any]:
    """A JSON body must be an object."""
    from appliance.core.errors import refuse

    if data is None:
        return {}
    if not isinstance(data, dict):
        raise refuse("invalid", "Nội dung yêu cầu phải là một đối tượng JSON.", "The body must be a JSON object.")
    return data


async def run(request: Request[Any, Any, Any], kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """Execute a command as the caller, honouring the Idempotency-Key header."""
    appliance = request.app.state.appliance
    result: dict[str, Any] = await appliance.execute(
        actor_of(request),
        Command(kind, args),
        device=device_of(request),
        client_id=request.headers.get("idempotency-key"),
    )
    return result
