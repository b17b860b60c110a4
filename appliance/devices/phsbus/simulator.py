"""A bus of simulated delegate units behind a pseudo-terminal, running the real firmware logic.

``os.openpty`` gives a pair: the host opens the slave's path exactly as it opens
/dev/phs-bus, and this simulator answers on the master side with N ``proto.Unit``
objects — the same code the Pico runs. Replies are held back for the time their bytes
(and the request's) take at the configured line rate plus the unit's turnaround, so
timing looks like the wire. Faults for tests: a unit unplugged, a corrupted reply, a
slow unit.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Iterable

from appliance.devices.phsbus import proto

TURNAROUND_S = 0.00005  # a unit's time from the request's last byte to its reply's first


class BusSimulator:
    """N units on one simulated RS-485 line."""

    def __init__(self, addresses: Iterable[int], *, baud: int = proto.BAUD, turnaround: float = TURNAROUND_S) -> None:
        self.units = {a: proto.Unit(a, boot_id=a) for a in addresses}
        self.baud = baud
        self.turnaround = turnaround
        self.unplugged: set[int] = set()
        self.corrupt: dict[int, int] = {}  # addr -> replies still to corrupt
        self.slow: dict[int, float] = {}  # addr -> extra seconds before replying
        self.frames_seen = 0
        self.on_frame: list[tuple[float, tuple[int, int, int, bytes]]] = []  # (perf_counter, frame) of SETs
        self.events_sent: list[tuple[float, int]] = []  # (perf_counter, addr): a STATUS carrying events left
        self._lock = threading.Lock()
        self._master, self._slave = os.openpty()
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bus-sim", daemon=True)
        self._started = time.monotonic()

    def start(self) -> BusSimulator:
        """Begin answering."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the pair."""
        self._stop.set()
        self._thread.join(2.0)
        os.close(self._master)
        os.close(self._slave)

    # -- what a person does at a unit -------------------------------------------------
    def press(self, addr: int) -> float:
        """Press the request button; returns the moment (perf_counter)."""
        with self._lock:
            self.units[addr].press()
        return time.perf_counter()

    def key(self, addr: int, n: int) -> None:
        """Press vote key ``n``."""
        with self._lock:
            self.units[addr].key(n)

    def unplug(self, addr: int) -> None:
        """The unit's cable is pulled: it stops answering."""
        self.unplugged.add(addr)

    def plug(self, addr: int) -> None:
        """The unit is back, freshly booted (a new boot id, outputs off)."""
        self.units[addr] = proto.Unit(addr, boot_id=self.units[addr].boot_id + 1)
        self.unplugged.discard(addr)

    def outputs(self, addr: int) -> tuple[int, int]:
        """The unit's relay and LED right now."""
        unit = self.units[addr]
        return unit.relay, unit.led

    # -- the line ----------------------------------------------------------------------
    def _now_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

    def _run(self) -> None:
        decoder = proto.Decoder()
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                with self._lock:
                    for unit in self.units.values():
                        unit.tick(self._now_ms())
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            for frame in decoder.feed(data):
                self.frames_seen += 1
                self._answer(frame)

    def _answer(self, frame: tuple[int, int, int, bytes]) -> None:
        addr, cmd = frame[0], frame[1]
        if cmd == proto.SET:
            self.on_frame.append((time.perf_counter(), frame))
        targets = list(self.units.values()) if addr == proto.BROADCAST else [self.units[addr]] if addr in self.units else []
        for unit in targets:
            if unit.addr in self.unplugged:
                continue
            with self._lock:
                reply = unit.handle(frame, self._now_ms())
            if reply is None:
                continue
            if self.corrupt.get(unit.addr):
                self.corrupt[unit.addr] -= 1
                reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
            delay = proto.wire_seconds(7 + len(frame[3]) + len(reply), self.baud) + self.turnaround
            time.sleep(delay + self.slow.get(unit.addr, 0.0))
            os.write(self._master, reply)
            if reply[2] == proto.STATUS and reply[6] > 0:
                self.events_sent.append((time.perf_counter(), unit.addr))
