"""Group messages over the live channel: a member's tablet writes on its open WebSocket.

Posting by HTTP made each message pay a request parse, a credential lookup and a response
on top of the post itself; with 10 groups of 50 talking at once that overhead, not the
fan-out, set the delivery time (bench/RESULTS.md, "Discussion group fan-out"). On the
socket the post takes the same path as ``POST /api/groups/{id}/messages``: the route's
permission (``group.take_part``), the shared-annotation check, then ``post_group_message``
through the single writer, acknowledged only after the journal fsync.

Client -> server: ``{"type": "post", "id": CLIENT_ID, "group_id": ID, "text": TEXT}``
(optionally ``"ref": {"doc", "page", "note"}``). ``id`` is the HTTP ``Idempotency-Key``:
a resend — on the socket or by HTTP after a drop — is posted once.
Server -> client: ``{"type": "ack", "id", "ok": true, "position", "message_id"}`` or
``{"type": "ack", "id", "ok": false, "code", "message", "message_en"}``. The text itself
reaches members (the sender too) in the ``groups`` section of the live update.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from appliance.core.errors import refuse
from appliance.meeting.decide import Command
from appliance.meeting.roles import Actor
from appliance.web.controllers.groups import check_shared_note, post_args
from appliance.web.live_ballots import acknowledge, client_id_of

if TYPE_CHECKING:
    from appliance.web.service import Appliance

PERMISSION = "group.take_part"  # as the HTTP route declares it


def post_command(appliance: Appliance, actor: Actor) -> Callable[[dict[str, Any]], tuple[str, Command]]:
    """The checks of the HTTP route, in its order, for a live ``post`` message."""

    def command_of(message: dict[str, Any]) -> tuple[str, Command]:
        client_id = client_id_of(message, "message")
        if not actor.can(PERMISSION):  # the HTTP guard refuses before reading the body
            raise refuse("forbidden")
        group_id = message.get("group_id")
        if not isinstance(group_id, str) or not group_id:
            raise refuse("invalid", "Thiếu mã nhóm thảo luận.", "group_id is missing.", field="group_id")
        check_shared_note(appliance, actor, group_id, message.get("ref"))
        return client_id, Command("post_group_message", post_args(group_id, message))

    return command_of


async def post_live(
    appliance: Appliance, actor: Actor, device: str, message: dict[str, Any], send: Callable[[str], Awaitable[None]]
) -> None:
    """Run one live group post and send its acknowledgement (or refusal) once it is durable."""
    await acknowledge(appliance, actor, device, message, send, post_command(appliance, actor),
                      lambda outcome: {"message_id": outcome.get("ref")})
