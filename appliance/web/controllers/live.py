"""The live channel: one WebSocket per device."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from appliance.web.auth import actor_of, device_of
from appliance.web.live_ballots import cast_live
from appliance.web.trust import REVOKED_CLOSE_CODE, REVOKED_MESSAGE


@websocket("/api/live", opt={"permission": "view"})
async def live(socket: WebSocket[Any, Any, Any]) -> None:
    """Snapshot on connect, then changed sections; answers resume and ping, takes ballots."""
    await socket.accept()
    appliance = socket.app.state.appliance
    hub = appliance.hub
    conn = hub.connect(actor_of(socket), device_of(socket))
    ballots: set[asyncio.Task[None]] = set()  # each ballot waits for its fsync on its own

    async def sender() -> None:
        while True:
            message = await conn.queue.get()
            await socket.send_text(message)

    task = asyncio.create_task(sender())
    closed = asyncio.create_task(conn.closed.wait())
    try:
        while True:
            receive = asyncio.create_task(socket.receive_text())
            done, _ = await asyncio.wait({receive, closed, task}, return_when=asyncio.FIRST_COMPLETED)
            if receive not in done:
                receive.cancel()
                break
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
            elif message.get("type") == "vote":
                job = asyncio.create_task(cast_live(appliance, conn.actor, conn.device, message, socket.send_text))
                ballots.add(job)
                job.add_done_callback(ballots.discard)
    except (WebSocketDisconnect, RuntimeError):
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
