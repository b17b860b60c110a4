"""A hall display's live channel, held open during the run.

It asserts nothing: its job is to load the live channel the way a display does
(a snapshot, then updates; a resume after the appliance restarts) so that a
rehearsal exercises the WebSocket fan-out too. Anything that goes wrong here is
noted in the human report, never fails the scenario.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets
from websockets.asyncio.client import connect

PING_EVERY_S = 10.0


class LiveObserver:
    """Counts what the display's live channel receives; reconnects with ``resume``."""

    def __init__(self, base_url: str, token: str) -> None:
        self.url = base_url.replace("http://", "ws://").replace("https://", "wss://") + "/api/live"
        self.token = token
        self.snapshots = 0
        self.updates = 0
        self.connects = 0
        self.position = 0
        self.errors: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background until ``stop``."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Close the channel."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while True:
            try:
                async with connect(self.url, additional_headers=headers, proxy=None,
                                   open_timeout=5) as ws:
                    self.connects += 1
                    if self.position:
                        await ws.send(json.dumps({"type": "resume", "position": self.position}))
                    await self._listen(ws)
            except asyncio.CancelledError:
                raise
            except (OSError, websockets.WebSocketException, TimeoutError, ValueError) as exc:
                if len(self.errors) < 20:
                    self.errors.append(repr(exc))
            await asyncio.sleep(0.2)

    async def _listen(self, ws: Any) -> None:
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), PING_EVERY_S)
            except TimeoutError:
                await ws.send(json.dumps({"type": "ping"}))
                continue
            message = json.loads(raw)
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "snapshot":
                self.snapshots += 1
            elif kind == "update":
                self.updates += 1
            elif kind == "error" and len(self.errors) < 20:
                self.errors.append(f"{message.get('code')}: {message.get('message')}")
            if isinstance(message, dict) and isinstance(message.get("position"), int):
                self.position = message["position"]

    def summary(self) -> str:
        """One line for the human report."""
        text = (f"live channel (display): {self.connects} connection(s), "
                f"{self.snapshots} snapshot(s), {self.updates} update(s)")
        if self.errors:
            text += f"; last problem: {self.errors[-1]}"
        return text
