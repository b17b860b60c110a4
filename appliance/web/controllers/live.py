"""The live channel: one WebSocket per device."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from appliance.web.auth import actor_of, device_of
from appliance.web.limits import SEND_TIMEOUT_S, Bucket, ConnectionLimits
from appliance.web.live_ballots import cast_live
from appliance.web.live_posts import post_live
from appliance.web.live_wire import WIRE, Wire
from appliance.web.trust import REVOKED_CLOSE_CODE, REVOKED_MESSAGE

TRY_AGAIN_LATER = 1013  # WebSocket close code: too many connections from this device/address
POLICY = 1008  # WebSocket close code: the device ignored its message allowance
# Commands a tablet may send on its socket instead of one HTTP request each; each is
# acknowledged on the socket once durable ({"type": "ack", "id", ...}).
LiveCommand = Callable[[Any, Any, str, dict[str, Any], Callable[[str], Awaitable[None]]], Coroutine[Any, Any, None]]
LIVE_COMMANDS: dict[str, LiveCommand] = {"vote": cast_live, "post": post_live}


def _command_handler(message: dict[str, Any]) -> LiveCommand | None:
    kind = message.get("type")
    return LIVE_COMMANDS.get(kind) if isinstance(kind, str) else None  # a list as type is not hashable


def _limits(socket: WebSocket[Any, Any, Any]) -> ConnectionLimits:
    state = socket.app.state
    limits = getattr(state, "live_limits", None)
    if limits is None:
        limits = state.live_limits = ConnectionLimits()
    return limits


@websocket("/api/live", opt={"permission": "view"})
async def live(socket: WebSocket[Any, Any, Any]) -> None:
    """Snapshot on connect, then changed sections; answers resume and ping, takes ballots and group posts."""
    limits = _limits(socket)
    device = device_of(socket)
    address = socket.client.host if socket.client else "unix"
    refused = limits.admit(device, address)
    await socket.accept()
    if refused is not None:
        await socket.send_text(json.dumps({"type": "error", "code": "too_many_connections", "limit": refused}))
        await socket.close(code=TRY_AGAIN_LATER)
        return
    try:
        await _serve(socket, device)
    finally:
        limits.release(device, address)


async def _serve(socket: WebSocket[Any, Any, Any], device: str) -> None:
    appliance = socket.app.state.appliance
    hub = appliance.hub
    extensions: dict[str, Any] = socket.scope.get("extensions") or {}
    wire: Wire | None = extensions.get(WIRE)  # absent outside uvicorn (the test client)
    conn = hub.connect(actor_of(socket), device, wire.write if wire is not None else None)
    commands: set[asyncio.Task[None]] = set()  # each ballot or post waits for its fsync on its own
    bucket = Bucket()

    async def sender() -> None:
        # The slow path: the snapshot, and what the hub could not write at once. A device
        # that stops reading fills its TCP window; past SEND_TIMEOUT_S the connection ends
        # (it resyncs from a snapshot on return) instead of waiting forever.
        while True:
            message = await conn.queue.get()
            conn.sending = True
            try:
                await asyncio.wait_for(socket.send_text(message), SEND_TIMEOUT_S)
            except TimeoutError:
                return
            finally:
                conn.sending = False
            # Not kept until the next message: 500 idle tablets each holding their ~110 KB
            # snapshot string was 105 MB of the server's memory.
            del message

    task = asyncio.create_task(sender())
    closed = asyncio.create_task(conn.closed.wait())
    try:
        while True:
            receive = asyncio.create_task(socket.receive_text())
            done, _ = await asyncio.wait({receive, closed, task}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                break
            if not bucket.allow():
                if bucket.exhausted:
                    await socket.close(code=POLICY)
                    break
                await socket.send_text('{"type": "error", "code": "rate_limited"}')
                continue
            try:
                message = json.loads(receive.result())
            except (ValueError, TypeError):
                await socket.send_text(json.dumps({"type": "error", "code": "invalid", "message": "JSON"}))
                continue
            if not isinstance(message, dict):
                continue
            socket.app.state.appliance.trust.seen(conn.device)
            if message.get("type") == "ping":
                await socket.send_text('{"type": "pong"}')
            elif message.get("type") == "resume" and isinstance(message.get("position"), int):
                hub.resync(conn, message["position"])
            elif (handler := _command_handler(message)) is not None:
                job = asyncio.create_task(handler(appliance, conn.actor, conn.device, message, socket.send_text))
                commands.add(job)
                job.add_done_callback(commands.discard)
    except (WebSocketDisconnect, RuntimeError, TimeoutError):
        pass
    finally:
        task.cancel()
        closed.cancel()
        hub.disconnect(conn)
        trust = socket.app.state.appliance.trust
        if socket.connection_state != "disconnect":
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                if trust.is_revoked(conn.device):  # revoked: tell the tablet to wipe itself, then close
                    await socket.send_text(REVOKED_MESSAGE)
                    await socket.close(code=REVOKED_CLOSE_CODE)
                else:
                    await socket.close()
