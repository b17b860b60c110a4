"""Televic CoCon (Plixus) as a ``ConferenceSystem``, over its REST API on port 8890.

Source: Televic "CoCon API" manual (public copy), sections 3.3 Publish/Subscribe,
3.4 Setting up and operating the API connection, 4.2.1.2 UnitStateChanged,
4.2.2.1 MicrophoneState, 4.2.2.3 MicButtonEvent and the Microphone command
``/CoCon/Microphone/SetState/?State=On|Off|Request&SeatNr=N`` (3.4.2 example);
the reconnect rules follow the published open-source client ``cocon_client``
(3P Technologies), which reads replies that arrive as a JSON document inside a JSON
string.

What we use, as documented:
- ``GET /CoCon/Connect`` → ``{"Connect": true, "id": "<uuid>"}`` (often double-encoded).
- ``GET /CoCon/Notification/id=<id>``: a long-poll answered with one notification, 408
  after 30 s without one (poll again), 400 for an unknown or expired id (connect again
  and subscribe again; ids expire after 180 s without a notification request).
- ``GET /CoCon/Subscribe/?Model=Microphone&id=<id>`` (and ``Room``).
- ``{"MicrophoneState": {"Speakers": [seats], "Requests": [seats]}}`` whenever a
  microphone changes; ``{"UnitStateChanged": {"Id": unit, "State": 0|1}}``.
- ``GET /CoCon/Microphone/SetState/?State=On|Off|Request&SeatNr=N``.

Mapping and what is *not* documented (so not done):
- The request button: CoCon puts the seat in "Requests" itself. A seat appearing in
  Requests or Speakers that we did not command, or leaving them against our command, is
  a press (the server toggles: ask, withdraw, switch off). ``MicButtonEvent`` is not used
  so one press is never counted twice.
- Indicators: CoCon lights its rings from the microphone state; "waiting" is sent as
  ``State=Request``, "speaking" as ``On``, "off" as ``Off``. Arbitrary LED control
  (``ButtonLED_Event/SetLED``) is described inconsistently across sources: not used.
- ``UnitStateChanged`` names a unit id, not a seat; the seat for a unit id is not in the
  documented notifications, so it comes from configuration (``unit_seats``), else the id.
- Keypad votes: CoCon runs its own voting sessions; casting an external poll's ballot
  from a CoCon keypad is not documented, so this adapter yields no ``KeypadVote``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from appliance.core.errors import refuse
from appliance.devices.conference import (
    INDICATOR_STATES,
    ButtonPress,
    ConferenceEvent,
    IndicatorState,
    UnitOffline,
    UnitOnline,
)

log = logging.getLogger(__name__)

PORT = 8890
MODELS = ("Microphone", "Room")
NOTIFY_TIMEOUT_S = 35.0  # the server answers 408 after 30 s
STATE_FOR: dict[str, str] = {"speaking": "On", "waiting": "Request", "off": "Off"}


def decode(text: str) -> Any:
    """CoCon's replies: JSON, or a JSON string holding JSON (parse twice)."""
    value: Any = json.loads(text) if text.strip() else None
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return value


class CoConSystem:
    """One CoCon room server; reconnects by itself when the link or the id is lost."""

    def __init__(
        self, host: str, *, port: int = PORT, unit_seats: Mapping[int, str] | None = None,
        notify_timeout: float = NOTIFY_TIMEOUT_S, retry_s: float = 1.0,
    ) -> None:
        self.base = f"http://{host}:{port}/CoCon"
        self.unit_seats = dict(unit_seats or {})
        self.notify_timeout = notify_timeout
        self.retry_s = retry_s
        self.connection_id = ""
        self.connects = 0
        self.commanded: dict[str, str] = {}  # seat -> "On" | "Request" | "Off", as we last set it
        self.speakers: set[str] = set()
        self.requests: set[str] = set()
        self._client = httpx.AsyncClient(timeout=notify_timeout + 5, trust_env=False)
        self._streams: set[asyncio.Queue[ConferenceEvent | None]] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect, subscribe and keep the notification long-poll open."""
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        """Stop polling; every ``events`` iterator ends."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()
        for queue in list(self._streams):
            queue.put_nowait(None)

    # -- the ConferenceSystem protocol -------------------------------------------------
    async def open_mic(self, seat: str) -> None:
        """``SetState On``."""
        await self._set_state(seat, "On")

    async def close_mic(self, seat: str) -> None:
        """``SetState Off`` (unless the seat is only waiting: then it stays in request)."""
        if self.commanded.get(seat) == "On" or seat in self.speakers:
            await self._set_state(seat, "Off")

    async def set_indicator(self, seat: str, state: IndicatorState) -> None:
        """CoCon lights rings from the microphone state: waiting = Request, speaking = On."""
        if state not in INDICATOR_STATES:
            raise refuse("invalid", seat=seat, indicator=state)
        if self.commanded.get(seat) != STATE_FOR[state]:
            await self._set_state(seat, STATE_FOR[state])

    def events(self) -> AsyncIterator[ConferenceEvent]:
        """A new subscription to presses and units online/offline."""
        queue: asyncio.Queue[ConferenceEvent | None] = asyncio.Queue()
        self._streams.add(queue)

        async def stream() -> AsyncIterator[ConferenceEvent]:
            while (item := await queue.get()) is not None:
                yield item

        return stream()

    # -- the API -----------------------------------------------------------------------
    async def _get(self, path: str, params: dict[str, str] | None = None, timeout: float | None = None) -> httpx.Response:
        return await self._client.get(f"{self.base}/{path}", params=params, timeout=timeout or 10.0)

    async def _set_state(self, seat: str, state: str) -> None:
        if not seat.isdigit():
            raise refuse("not_found", seat=seat)
        self.commanded[seat] = state
        r = await self._get("Microphone/SetState/", {"State": state, "SeatNr": seat})
        if r.status_code != 200:
            raise refuse("conflict", message_en=f"CoCon refused SetState ({r.status_code})", seat=seat)

    async def _connect(self) -> None:
        r = await self._get("Connect")
        body = decode(r.text)
        if r.status_code != 200 or not isinstance(body, dict) or not body.get("Connect") or not body.get("id"):
            raise ConnectionError(f"CoCon Connect failed ({r.status_code})")
        self.connection_id = str(body["id"])
        for model in MODELS:
            await self._get("Subscribe/", {"Model": model, "id": self.connection_id})
        self.connects += 1  # counted once subscribed: only then are presses delivered
        log.info("connected to CoCon", extra={"connects": self.connects})

    async def _run(self) -> None:
        while True:
            try:
                if not self.connection_id:
                    await self._connect()
                r = await self._get(f"Notification/id={self.connection_id}", timeout=self.notify_timeout)
            except (httpx.TransportError, ConnectionError, ValueError) as exc:
                log.warning("CoCon unreachable, retrying", extra={"error": type(exc).__name__})
                self.connection_id = ""
                await asyncio.sleep(self.retry_s)
                continue
            if r.status_code == 408:
                continue  # no news within 30 s: poll again
            if r.status_code == 400:
                self.connection_id = ""  # expired or unknown id: connect and subscribe again
                continue
            if r.status_code != 200:
                await asyncio.sleep(self.retry_s)
                continue
            body = decode(r.text)
            for message in body if isinstance(body, list) else [body]:
                if isinstance(message, dict):
                    self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        if isinstance(message.get("MicrophoneState"), dict):
            state = message["MicrophoneState"]
            speakers = {str(s) for s in state.get("Speakers") or []}
            requests = {str(s) for s in state.get("Requests") or []}
            for seat in sorted((speakers | requests) ^ (self.speakers | self.requests)):
                now = "On" if seat in speakers else "Request" if seat in requests else "Off"
                if self.commanded.get(seat, "Off") != now:
                    self._emit(ButtonPress(seat))  # the delegate, not us, changed this seat
                    self.commanded[seat] = now
            self.speakers, self.requests = speakers, requests
        change = message.get("UnitStateChanged")
        if isinstance(change, dict) and "Id" in change:
            unit = int(change["Id"])
            seat = self.unit_seats.get(unit, str(unit))
            self._emit(UnitOnline(seat) if change.get("State") else UnitOffline(seat))

    def _emit(self, event: ConferenceEvent) -> None:
        for queue in list(self._streams):
            queue.put_nowait(event)
