"""The bus master: polls up to 250 delegate units and drives their relays and LED rings.

One thread owns the line (a poll is a few hundred microseconds; asyncio's scheduling
would dominate it). Between polls it first sends any changed outputs (a grant reaches
the relay within one poll slot), then polls the next unit: units that reported events
or said "more" first, then the others round-robin, and every round one silent address
is probed with HELLO so a unit plugged in later is found. A unit that misses three
polls in a row is reported offline; its outputs are sent again when it answers.
Events go to asyncio subscribers as ``ConferenceEvent``s with the unit's address as seat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from appliance.core.errors import refuse
from appliance.devices.conference import (
    INDICATOR_STATES,
    ButtonPress,
    ConferenceEvent,
    IndicatorState,
    KeypadVote,
    UnitOffline,
    UnitOnline,
)
from appliance.devices.phsbus import proto
from appliance.devices.phsbus.line import open_line

log = logging.getLogger(__name__)

LED_FOR: dict[str, int] = {"off": proto.LED_OFF, "waiting": proto.LED_WAITING, "speaking": proto.LED_SPEAKING}
REPLY_TIMEOUT_S = 0.004  # a unit answers within ~1 ms; 4 ms covers a busy MicroPython loop
MISS_LIMIT = 3
SET_RETRIES = 3


@dataclass
class UnitInfo:
    """What the host knows of one address."""

    addr: int
    online: bool = False
    firmware: str = ""
    boot_id: int | None = None
    misses: int = 0
    relay: int = 0
    led: int = proto.LED_OFF
    applied: tuple[int, int] | None = None  # outputs the unit acknowledged
    set_seq: int = 0
    last_batch: int | None = None
    ack: int | None = None  # the last STATUS batch received; None: nothing yet
    errors: int = 0


@dataclass
class BusStats:
    """Counters for the technician screen and the benchmark."""

    polls: int = 0
    rounds: int = 0
    crc_errors: int = 0
    timeouts: int = 0
    retries: int = 0
    round_s: float = 0.0
    timings: list[float] = field(default_factory=list)


class _Stream:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[ConferenceEvent | None] = asyncio.Queue()

    def __aiter__(self) -> _Stream:
        return self

    async def __anext__(self) -> ConferenceEvent:
        item = await self.queue.get()
        if item is None:
            raise StopAsyncIteration
        return item


class PhsBusSystem:
    """The ``ConferenceSystem`` of our own RS-485 delegate units."""

    def __init__(
        self,
        path: str | Path,
        addresses: Iterable[int] = range(1, proto.MAX_UNITS + 1),
        *,
        baud: int = proto.BAUD,
        reply_timeout: float = REPLY_TIMEOUT_S,
    ) -> None:
        self.path = str(path)
        self.baud = baud
        self.reply_timeout = reply_timeout
        self.units = {a: UnitInfo(a) for a in addresses if 1 <= a <= proto.MAX_UNITS}
        self.stats = BusStats()
        self._fd = -1
        self._decoder = proto.Decoder()
        self._dirty: set[int] = set()
        self._urgent: deque[int] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._streams: set[_Stream] = set()
        self.discovered = threading.Event()

    # -- life cycle ------------------------------------------------------------------
    async def start(self) -> None:
        """Open the line and start polling (discovery first)."""
        self._loop = asyncio.get_running_loop()
        self._fd = open_line(self.path, self.baud)
        self._thread = threading.Thread(target=self._run, name="phs-bus", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        """Switch every microphone off, stop polling, end every subscription."""
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2.0)
        if self._fd >= 0:
            # If the adapter is gone, the units' heartbeat closes the microphones instead.
            with contextlib.suppress(OSError):
                os.write(self._fd, proto.encode(proto.BROADCAST, proto.ALL_OFF, 0))
            os.close(self._fd)
            self._fd = -1
        for stream in list(self._streams):
            stream.queue.put_nowait(None)

    # -- the ConferenceSystem protocol -------------------------------------------------
    async def open_mic(self, seat: str) -> None:
        """Close the seat's relay contact: its microphone is live."""
        self._set(seat, relay=1)

    async def close_mic(self, seat: str) -> None:
        """Open the seat's relay contact."""
        self._set(seat, relay=0)

    async def set_indicator(self, seat: str, state: IndicatorState) -> None:
        """Light the ring: red speaking, green waiting, or off."""
        if state not in INDICATOR_STATES:
            raise refuse("invalid", seat=seat, indicator=state)
        self._set(seat, led=LED_FOR[state])

    def events(self) -> AsyncIterator[ConferenceEvent]:
        """A new subscription to unit events."""
        stream = _Stream()
        self._streams.add(stream)
        return stream

    def status(self) -> list[dict[str, object]]:
        """Every known unit, for the technician screen."""
        return [
            {"seat": str(u.addr), "online": u.online, "firmware": u.firmware, "relay": bool(u.relay),
             "indicator": next((k for k, v in LED_FOR.items() if v == u.led), "off"), "errors": u.errors}
            for u in self.units.values()
            if u.online or u.firmware
        ]

    def _set(self, seat: str, *, relay: int | None = None, led: int | None = None) -> None:
        unit = self.units.get(int(seat)) if seat.isdigit() else None
        if unit is None:
            raise refuse("not_found", seat=seat)
        with self._lock:
            if relay is not None:
                unit.relay = relay
            if led is not None:
                unit.led = led
            self._dirty.add(unit.addr)

    def _emit(self, event: ConferenceEvent) -> None:
        if self._loop is None:
            return
        for stream in list(self._streams):
            self._loop.call_soon_threadsafe(stream.queue.put_nowait, event)

    # -- the bus thread ------------------------------------------------------------------
    def _run(self) -> None:
        try:
            for unit in self.units.values():
                if self._stop.is_set():
                    return
                self._hello(unit)
            self.discovered.set()
            probe = 0
            while not self._stop.is_set():
                started = time.perf_counter()
                online = [u for u in self.units.values() if u.online]
                for unit in online:
                    self._flush()
                    while self._urgent:
                        self._poll(self.units[self._urgent.popleft()])
                        self._flush()
                    self._poll(unit)
                    if self._stop.is_set():
                        return
                silent = [u for u in self.units.values() if not u.online]
                if silent:
                    probe = (probe + 1) % len(silent)
                    self._hello(silent[probe])
                if not online:
                    time.sleep(0.005)
                self.stats.rounds += 1
                self.stats.round_s = time.perf_counter() - started
        except OSError as exc:  # the adapter was unplugged: report and stop; the program reopens it
            log.warning("bus line failed", extra={"error": str(exc)})
            for unit in self.units.values():
                if unit.online:
                    unit.online = False
                    self._emit(UnitOffline(str(unit.addr)))

    def _flush(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        for addr in sorted(dirty):
            unit = self.units[addr]
            if unit.online and unit.applied != (unit.relay, unit.led):
                self._send_outputs(unit)

    def _send_outputs(self, unit: UnitInfo) -> None:
        wanted = (unit.relay, unit.led)
        unit.set_seq = (unit.set_seq + 1) & 0xFF
        for attempt in range(SET_RETRIES):
            reply = self._transact(proto.encode(unit.addr, proto.SET, unit.set_seq, bytes(wanted)), unit.addr, proto.ACK)
            if reply is not None and reply[0] == unit.set_seq:
                unit.applied = wanted
                return
            self.stats.retries += attempt < SET_RETRIES - 1
        self._missed(unit)

    def _poll(self, unit: UnitInfo) -> None:
        self.stats.polls += 1
        reply = self._transact(proto.encode(unit.addr, proto.POLL, 0, b"" if unit.ack is None else bytes([unit.ack])), unit.addr, proto.STATUS)
        if reply is None:
            self._missed(unit)
            return
        self._answered(unit)
        batch, payload = reply
        flags, events = proto.parse_status(payload)
        if events and batch != unit.last_batch:
            unit.last_batch = batch
            for kind, value in events:
                if kind == proto.EV_BUTTON:
                    self._emit(ButtonPress(str(unit.addr)))
                elif kind == proto.EV_KEY:
                    self._emit(KeypadVote(str(unit.addr), str(value)))
        if events:
            unit.ack = batch  # acknowledge events only: an empty batch does not advance the unit's
        if flags & proto.FLAG_NEEDS_STATE:
            unit.applied = None
            self._send_outputs(unit)
        if events or flags & proto.FLAG_MORE:
            self._urgent.append(unit.addr)  # acknowledge and fetch the rest before the round goes on

    def _hello(self, unit: UnitInfo) -> None:
        reply = self._transact(proto.encode(unit.addr, proto.HELLO, 0), unit.addr, proto.HELLO_REPLY)
        if reply is None:
            return
        _, body = reply
        if len(body) >= 5:
            boot = body[3] << 8 | body[4]
            if unit.boot_id is not None and boot != unit.boot_id:
                unit.last_batch, unit.applied, unit.ack = None, None, None  # it rebooted: its queue and outputs are new
            unit.boot_id = boot
            unit.firmware = f"{body[0]}.{body[1]}.{body[2]}"
        self._answered(unit)

    def _answered(self, unit: UnitInfo) -> None:
        unit.misses = 0
        if not unit.online:
            unit.online = True
            unit.applied = None
            with self._lock:
                self._dirty.add(unit.addr)
            self._emit(UnitOnline(str(unit.addr)))

    def _missed(self, unit: UnitInfo) -> None:
        unit.misses += 1
        unit.errors += 1
        if unit.online and unit.misses >= MISS_LIMIT:
            unit.online = False
            log.warning("unit went silent", extra={"seat": unit.addr})
            self._emit(UnitOffline(str(unit.addr)))

    def _transact(self, frame: bytes, addr: int, expect: int) -> tuple[int, bytes] | None:
        """Send a frame and wait for the unit's reply: (seq, payload), or None on timeout."""
        os.write(self._fd, frame)
        deadline = time.perf_counter() + proto.wire_seconds(len(frame) + 7 + proto.MAX_PAYLOAD, self.baud) + self.reply_timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                self.stats.timeouts += 1
                return None
            ready, _, _ = select.select([self._fd], [], [], left)
            if not ready:
                continue
            bad = self._decoder.bad
            for r_addr, cmd, seq, payload in self._decoder.feed(os.read(self._fd, 4096)):
                if r_addr == addr and cmd == expect:
                    return seq, payload
            self.stats.crc_errors += self._decoder.bad - bad
