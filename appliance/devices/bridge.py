"""Between a conference system and the server: events up, the floor plan down.

Hardware events enter the box through the same command path as tablets: a button press
or a keypad key is posted to the server's local API (DATA/run/local.sock), which judges
it as the seat's delegate. The other way, the bridge keeps a long-poll open on
``/api/local/plan`` and, whenever the floor changes, opens and closes microphones and
lights rings so the hall matches the plan (docs/HARDWARE.md). Only differences are
sent, and a unit that comes back online gets its state again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from appliance.core.ids import new_id
from appliance.devices.conference import (
    ButtonPress,
    ConferenceEvent,
    ConferenceSystem,
    IndicatorState,
    KeypadVote,
    UnitOffline,
    UnitOnline,
)
from appliance.devices.local_api import BASE_URL, local_socket_path

log = logging.getLogger(__name__)

LONG_POLL_S = 25.0
RETRY_S = 1.0


class Bridge:
    """Runs until cancelled; survives the server restarting (it retries)."""

    def __init__(
        self,
        conference: ConferenceSystem,
        data_dir: Path,
        *,
        status: Callable[[], list[dict[str, object]]] | None = None,
        source: str = "",
    ) -> None:
        self.conference = conference
        self.socket = local_socket_path(data_dir)
        self.status = status
        self.source = source
        self.applied: dict[str, tuple[bool, IndicatorState]] = {}
        self.plan: dict[str, Any] | None = None
        self.position = -1
        self.applied_event = asyncio.Event()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(self.socket)), base_url=BASE_URL, timeout=LONG_POLL_S + 10
        )

    async def run(self) -> None:
        """Forward events and follow the plan, concurrently."""
        async with self._client() as client:
            tasks = [asyncio.create_task(self._forward(client)), asyncio.create_task(self._follow(client))]
            if self.status is not None:
                tasks.append(asyncio.create_task(self._report(client)))
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def _forward(self, client: httpx.AsyncClient) -> None:
        async for event in self.conference.events():
            body = _event_body(event)
            for _ in range(3):  # the same client id on a retry: the server applies it once
                try:
                    r = await client.post("/api/local/units/event", json=body)
                except httpx.TransportError:
                    await asyncio.sleep(RETRY_S)
                    continue
                if r.status_code >= 400:
                    # A refusal (nobody at that seat, no open poll) is logged, never retried.
                    log.info("unit event refused", extra={"seat": event.seat, "code": r.json().get("code")})
                break
            if isinstance(event, UnitOnline):
                self.applied.pop(event.seat, None)
                if self.plan is not None:
                    await self._apply(self.plan)

    async def _follow(self, client: httpx.AsyncClient) -> None:
        while True:
            try:
                r = await client.get("/api/local/plan", params={"after": self.position, "wait": LONG_POLL_S})
                plan = r.json()
            except (httpx.TransportError, ValueError):
                await asyncio.sleep(RETRY_S)  # the server is restarting or not up yet
                continue
            if r.status_code != 200:
                await asyncio.sleep(RETRY_S)
                continue
            self.position = int(plan.get("position", self.position))
            self.plan = plan
            await self._apply(plan)

    async def _apply(self, plan: dict[str, Any]) -> None:
        """Make every seat match the plan: open microphones red, waiting green, others off."""
        live = set(plan.get("open") or [])
        waiting = set(plan.get("waiting") or [])
        seats = live | waiting | set(self.applied)
        for seat in sorted(seats):
            want: tuple[bool, IndicatorState] = (
                (True, "speaking") if seat in live else (False, "waiting") if seat in waiting else (False, "off")
            )
            if self.applied.get(seat) == want:
                continue
            try:
                if want[0]:
                    await self.conference.open_mic(seat)
                else:
                    await self.conference.close_mic(seat)
                await self.conference.set_indicator(seat, want[1])
            except Exception as exc:  # an unknown or offline unit must not stop the others
                log.info("unit not driven", extra={"seat": seat, "error": str(exc)})
                continue
            self.applied[seat] = want
        self.applied_event.set()

    async def _report(self, client: httpx.AsyncClient) -> None:
        while True:
            assert self.status is not None
            with contextlib.suppress(httpx.TransportError):
                await client.post("/api/local/status", json={"source": self.source, "units": self.status()})
            await asyncio.sleep(2.0)


def _event_body(event: ConferenceEvent) -> dict[str, Any]:
    body: dict[str, Any] = {"seat": event.seat, "client_id": new_id("hw_")}
    if isinstance(event, ButtonPress):
        body["type"] = "press"
    elif isinstance(event, KeypadVote):
        body["type"] = "key"
        body["key"] = int(event.key) if event.key.isdigit() else 0
    elif isinstance(event, UnitOffline):
        body["type"] = "offline"
    else:
        body["type"] = "online"
    return body
