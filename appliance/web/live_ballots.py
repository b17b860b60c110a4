"""Ballots over the live channel: a tablet that already holds a WebSocket votes on it.

A ballot sent as one HTTP request costs a request parse, a credential lookup and a
response on top of the vote itself; during a burst (500 delegates within a second) that
overhead, not the journal, set the acknowledgement time (bench/RESULTS.md). On the open
WebSocket the same command runs through the same single writer, so the rules do not
change: the ballot is judged by ``decide`` (``poll.vote``), made durable (journal fsync,
and for a secret poll the ballot box first), and only then acknowledged.

Client -> server: ``{"type": "vote", "id": CLIENT_ID, "poll_id": ID, "answer": CODE}``
(or ``"answers": {NAME: CODE}``). ``id`` plays the part of the HTTP ``Idempotency-Key``:
a resend with the same id gets the first outcome, so a ballot is never counted twice.
Server -> client: ``{"type": "ack", "id": CLIENT_ID, "ok": true, "position": n}`` or
``{"type": "ack", "id": CLIENT_ID, "ok": false, "code", "message", "message_en"}``.
The ack carries no choice: a secret choice never travels back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from appliance.core.errors import PhsError, refuse
from appliance.meeting.decide import Command
from appliance.meeting.roles import Actor

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.live")

MAX_ID = 100


def _still_paired(appliance: Appliance, device: str) -> None:
    """A device revoked since the handshake votes no more (HTTP re-checks on every request)."""
    record = appliance.state.devices.get(device)
    if record is None or record.revoked:
        raise refuse("not_paired")


def client_id_of(message: dict[str, Any], what: str = "ballot") -> str:
    """The message's ``id`` (its Idempotency-Key), or ``invalid``."""
    client_id = message.get("id")
    if not isinstance(client_id, str) or not client_id.strip() or len(client_id) > MAX_ID:
        vi = "Thiếu mã phiếu (id)." if what == "ballot" else "Thiếu mã tin nhắn (id)."
        raise refuse("invalid", vi, f"A live {what} needs an id (1..{MAX_ID} characters).", field="id")
    return client_id


def ballot_command(message: dict[str, Any]) -> tuple[str, Command]:
    """The client id and the ``vote`` command a live message asks for, or ``invalid``."""
    client_id = client_id_of(message)
    poll_id = message.get("poll_id")
    if not isinstance(poll_id, str) or not poll_id:
        raise refuse("invalid", "Thiếu mã lượt biểu quyết.", "poll_id is missing.", field="poll_id")
    args = {"poll_id": poll_id, "answer": message.get("answer"), "answers": message.get("answers")}
    return client_id, Command("vote", args)


async def cast_live(
    appliance: Appliance, actor: Actor, device: str, message: dict[str, Any], send: Callable[[str], Awaitable[None]]
) -> None:
    """Run one live ballot and send its acknowledgement (or refusal) once it is durable."""
    await acknowledge(appliance, actor, device, message, send, ballot_command)


async def acknowledge(
    appliance: Appliance,
    actor: Actor,
    device: str,
    message: dict[str, Any],
    send: Callable[[str], Awaitable[None]],
    command_of: Callable[[dict[str, Any]], tuple[str, Command]],
    extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> None:
    """Run the command a live message asks for and answer ``ack`` on the socket once durable.

    ``command_of`` checks the message and names the command; ``extra`` adds fields of the
    outcome to a positive ack (never a secret choice).
    """
    client_id = message.get("id") if isinstance(message.get("id"), str) else None
    try:
        _still_paired(appliance, device)
        client_id, command = command_of(message)
        outcome = await appliance.execute(actor, command, device=device, client_id=client_id)
        reply: dict[str, Any] = {"type": "ack", "id": client_id, "ok": True, "position": outcome["position"]}
        if extra is not None:
            reply.update(extra(outcome))
    except PhsError as err:
        reply = {"type": "ack", "id": client_id, "ok": False, "code": err.code, "message": err.message,
                 "message_en": err.message_en}
    except Exception:  # noqa: BLE001 - the tablet must hear of it, the log says what
        log.exception("live command failed", extra={"device": device, "type": message.get("type")})
        reply = {"type": "ack", "id": client_id, "ok": False, "code": "internal"}
    try:
        await send(json.dumps(reply, ensure_ascii=False))
    except Exception:  # noqa: BLE001 - the socket went away; the command (if durable) stands
        log.debug("live ack not delivered", extra={"device": device})
