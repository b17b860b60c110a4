"""The conference system (delegate units: microphone, request button, keypad, LED ring).

Every make of hardware sits behind the ``ConferenceSystem`` protocol. The simulated
implementation below is what the demo and the tests use; a real adapter (our serial
line protocol, a vendor API) must pass the same tests, so the protocol stays small.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from appliance.core.errors import refuse

IndicatorState = Literal["speaking", "waiting", "off"]
INDICATOR_STATES: tuple[IndicatorState, ...] = ("speaking", "waiting", "off")
Button = Literal["request", "cancel", "priority"]


@dataclass(frozen=True)
class ButtonPress:
    """A delegate pressed a button on the unit (request the floor, cancel, chair priority)."""

    seat: str
    button: Button = "request"


@dataclass(frozen=True)
class KeypadVote:
    """A key pressed on the unit's voting keypad; the server maps keys to answers."""

    seat: str
    key: str


@dataclass(frozen=True)
class UnitOnline:
    """A unit answered on the bus (powered, cabled)."""

    seat: str


@dataclass(frozen=True)
class UnitOffline:
    """A unit stopped answering; its microphone is closed."""

    seat: str


ConferenceEvent = ButtonPress | KeypadVote | UnitOnline | UnitOffline


class ConferenceSystem(Protocol):
    """What the appliance needs from any conference system."""

    async def open_mic(self, seat: str) -> None:
        """Open the seat's microphone."""

    async def close_mic(self, seat: str) -> None:
        """Close the seat's microphone."""

    async def set_indicator(self, seat: str, state: IndicatorState) -> None:
        """Light the seat's indicator: speaking, waiting in the queue, or off."""

    def events(self) -> AsyncIterator[ConferenceEvent]:
        """Events from the units, in order, until ``close``."""
        ...

    async def close(self) -> None:
        """Release the hardware; every ``events`` iterator ends."""


@dataclass
class UnitState:
    """What a simulated unit shows right now."""

    online: bool = True
    mic_open: bool = False
    indicator: IndicatorState = "off"


_CLOSED = object()


class _EventStream:
    """One subscriber's queue. Registered when created, so nothing injected before the
    first ``await`` is lost (an async generator would only subscribe when first awaited)."""

    def __init__(self, owner: SimulatedConferenceSystem) -> None:
        self._owner = owner
        self.queue: asyncio.Queue[object] = asyncio.Queue()

    def __aiter__(self) -> _EventStream:
        return self

    async def __anext__(self) -> ConferenceEvent:
        item = await self.queue.get()
        if item is _CLOSED:
            self._owner._streams.discard(self)
            raise StopAsyncIteration
        return item  # type: ignore[return-value]


class SimulatedConferenceSystem:
    """A conference system held in memory: seat -> unit state, with injectable presses."""

    def __init__(self, seats: Iterable[str]) -> None:
        self.units: dict[str, UnitState] = {seat: UnitState() for seat in seats}
        self._streams: set[_EventStream] = set()
        self._closed = False

    # --- the ConferenceSystem protocol -------------------------------------------------

    async def open_mic(self, seat: str) -> None:
        """Open the seat's microphone; refused for an unknown or offline unit."""
        self._online_unit(seat).mic_open = True

    async def close_mic(self, seat: str) -> None:
        """Close the seat's microphone; closing a closed or offline one is a no-op."""
        self._unit(seat).mic_open = False

    async def set_indicator(self, seat: str, state: IndicatorState) -> None:
        """Set the seat's indicator; refused for an unknown state or offline unit."""
        if state not in INDICATOR_STATES:
            raise refuse("invalid", seat=seat, indicator=state)
        self._online_unit(seat).indicator = state

    def events(self) -> AsyncIterator[ConferenceEvent]:
        """A new subscription to unit events; each subscriber sees every event."""
        stream = _EventStream(self)
        if self._closed:
            stream.queue.put_nowait(_CLOSED)
        else:
            self._streams.add(stream)
        return stream

    async def close(self) -> None:
        """End every subscription."""
        self._closed = True
        for stream in list(self._streams):
            stream.queue.put_nowait(_CLOSED)

    # --- the simulation's own controls -------------------------------------------------

    def press(self, seat: str, button: Button = "request") -> None:
        """A delegate presses a button on an online unit."""
        self._online_unit(seat)
        self._emit(ButtonPress(seat, button))

    def vote(self, seat: str, key: str) -> None:
        """A delegate presses a keypad key on an online unit."""
        self._online_unit(seat)
        self._emit(KeypadVote(seat, key))

    def go_offline(self, seat: str) -> None:
        """The unit loses power or its cable: its microphone closes and its light goes out."""
        unit = self._unit(seat)
        if unit.online:
            self.units[seat] = UnitState(online=False)
            self._emit(UnitOffline(seat))

    def go_online(self, seat: str) -> None:
        """The unit comes back, microphone closed and light off, as real units boot."""
        unit = self._unit(seat)
        if not unit.online:
            unit.online = True
            self._emit(UnitOnline(seat))

    def status(self) -> list[dict[str, object]]:
        """Every unit as the technician screen lists it."""
        return [
            {"seat": seat, "online": u.online, "relay": u.mic_open, "indicator": u.indicator, "firmware": "simulated"}
            for seat, u in self.units.items()
        ]

    @property
    def open_mics(self) -> list[str]:
        """Seats whose microphone is open, in seat order."""
        return [seat for seat, unit in self.units.items() if unit.mic_open]

    def _unit(self, seat: str) -> UnitState:
        try:
            return self.units[seat]
        except KeyError:
            raise refuse("not_found", seat=seat) from None

    def _online_unit(self, seat: str) -> UnitState:
        unit = self._unit(seat)
        if not unit.online:
            raise refuse("conflict", seat=seat, reason="unit_offline")
        return unit

    def _emit(self, event: ConferenceEvent) -> None:
        if self._closed:
            raise refuse("conflict", reason="conference_system_closed")
        for stream in self._streams:
            stream.queue.put_nowait(event)
