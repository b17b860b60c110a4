"""Time: the box has no internet time, so records keep wall time and monotonic time."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Stamp:
    """A moment as both clocks saw it."""

    wall: float  # seconds since the epoch, from the hardware clock
    mono: float  # seconds from a monotonic clock, for durations

    def to_dict(self) -> dict[str, float]:
        """JSON-friendly form."""
        return {"wall": round(self.wall, 3), "mono": round(self.mono, 3)}


class Clock:
    """The real clock; tests substitute ``FixedClock``."""

    def now(self) -> Stamp:
        """Read both clocks."""
        return Stamp(time.time(), time.monotonic())


class FixedClock(Clock):
    """A clock that moves only when told: durations in tests are exact."""

    def __init__(self, wall: float = 1_780_000_000.0, mono: float = 1000.0) -> None:
        self.wall = wall
        self.mono = mono

    def now(self) -> Stamp:
        """The current fixed reading."""
        return Stamp(self.wall, self.mono)

    def advance(self, seconds: float) -> None:
        """Move both clocks forward."""
        self.wall += seconds
        self.mono += seconds
