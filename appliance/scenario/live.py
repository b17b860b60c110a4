"""The hall display's live channel (and with `observers: N` more screens), held open during the run.

It asserts nothing: its job is to load the live channel the way a display does
(a snapshot, then updates; a resume after the appliance restarts) so that a
rehearsal exercises the WebSocket fan-out too. Anything that goes wrong here is
noted in the human report, never fails the scenario.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import connect

PING_EVERY_S = 10.0
STOP_WAIT_S = 3.0


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
        self._stopping = False

    def start(self) -> None:
        """Run in the background until ``stop``."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Close the channel; never waits long, whatever state the channel is in."""
        self._stopping = True  # a cancellation lost in a race still ends the loop
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=STOP_WAIT_S)

    async def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self._stopping:
            try:
                async with connect(
                    self.url,
                    additional_headers=headers,
                    proxy=None,
                    open_timeout=5,
                    close_timeout=1,
                ) as ws:
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
        while not self._stopping:
            try:
                async with asyncio.timeout(PING_EVERY_S):
                    raw = await ws.recv()
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
        text = (
            f"live channel (display): {self.connects} connection(s), "
            f"{self.snapshots} snapshot(s), {self.updates} update(s)"
        )
        if self.errors:
            text += f"; last problem: {self.errors[-1]}"
        return text


def summary(observers: list[LiveObserver]) -> str:
    """One line for the human report, for the hall display alone or many screens."""
    if len(observers) == 1:
        return observers[0].summary()
    updates = [o.updates for o in observers]
    text = (
        f"live channel ({len(observers)} displays): {sum(o.connects for o in observers)} connection(s), "
        f"{sum(o.snapshots for o in observers)} snapshot(s), {sum(updates)} update(s), "
        f"{min(updates)}..{max(updates)} a screen"
    )
    troubled = [o for o in observers if o.errors]
    if troubled:
        text += f"; problems on {len(troubled)} screen(s), last: {troubled[-1].errors[-1]}"
    return text
