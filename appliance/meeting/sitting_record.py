"""Facts about the record of a sitting itself: its clock at opening and its erasure.

- ``clock_jump_noted``: the chair confirmed a date and time far from the box's own clock.
  The box has no internet time, so the journal keeps both readings side by side and the
  minutes can say which to trust; the system clock is never changed behind anyone's back.
- ``sitting_erased``: ``phs sitting erase`` destroyed the sitting's data key. Its records
  stay in the chain as unreadable frames; this event, sealed with the session key, closes
  the sitting in the replayed state so nothing is ever written under its name again.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.core.clock import Stamp
from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.model import SessionState

CLOCK_JUMP_LIMIT_S = 300.0  # five minutes: beyond ordinary drift of a hardware clock


@event("clock_jump_noted")
@dataclass(frozen=True)
class ClockJumpNoted(Event):
    """The confirmed wall time differs from the box's clock by more than the limit."""

    sitting_id: str
    box_wall: float
    confirmed_wall: float
    skew_s: float  # confirmed - box: positive when the box clock is behind


@event("sitting_erased")
@dataclass(frozen=True)
class SittingErased(Event):
    """A sitting's data key was destroyed (crypto-shredding) after its upstream receipt."""

    sitting_id: str
    at: float
    forced: bool = False  # erased without a recorded receipt (``--force``)


def clock_jump(sitting_id: str, confirmed_wall: float | None, now: Stamp) -> list[Event]:
    """The event to record when the chair's confirmed time is far from the box's clock."""
    if confirmed_wall is None:
        return []
    skew = float(confirmed_wall) - now.wall
    if abs(skew) <= CLOCK_JUMP_LIMIT_S:
        return []
    return [ClockJumpNoted(sitting_id, now.wall, float(confirmed_wall), round(skew, 3))]


@applies(ClockJumpNoted)
def _clock_jump(s: SessionState, e: ClockJumpNoted) -> None:
    """Kept beside the sitting for the secretary's screen; no rule depends on which clock was right."""
    for sitting in s.sittings:
        if sitting.id == e.sitting_id:
            sitting.clock_skew_s = e.skew_s


@applies(SittingErased)
def _erased(s: SessionState, e: SittingErased) -> None:
    for sitting in s.sittings:
        if sitting.id == e.sitting_id:
            sitting.status = "closed"  # never reopened: its key is gone
            sitting.closed_at = sitting.closed_at or e.at
            sitting.present.clear()
            sitting.current_item = None
