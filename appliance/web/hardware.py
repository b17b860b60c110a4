"""What the hall's hardware is doing, as `phs devices` reports it, and what it should do.

`phs devices` owns the hardware; the server owns the decisions. This board keeps the
last report (units online or not, their firmware, the last events, display outputs)
for the technician screen, and answers the devices program's long-poll with the
*plan*: which microphone units are open and which are waiting, by unit — the unit
wired to each seat in the seating plan, or the seat number where none is set.
Nothing here is journalled: it is the hall's live wiring, rebuilt from the next report.
Keypad presses are listed without the key: a technician never sees a choice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from appliance.core.events import Event
from appliance.meeting import floor as floor_rules
from appliance.meeting import seating
from appliance.meeting.model import SessionState

if TYPE_CHECKING:
    from appliance.web.service import Appliance

VIEWS = ("hall", "seating", "speaker")
PLAN_EVENTS = frozenset(
    {
        "floor_requested", "floor_withdrawn", "floor_granted", "floor_ended", "floor_moved",
        "mic_mode_set", "sitting_opened", "sitting_closed", "item_started", "poll_opened", "poll_closed",
        "participant_added", "checked_out",
    }
)
EVENT_LOG = 100


def plan(state: SessionState) -> dict[str, Any]:
    """Units whose microphone is open and units waiting, from the floor.

    A unit is the one wired to the speaker's seat (``Seat.unit``), else the seat number."""
    seat = {p.id: seating.unit_at(state, p.seat) for p in state.participants.values() if p.seat is not None}
    view_open = [seat[pid] for pid in floor_rules_open(state) if pid in seat]
    waiting = [seat[pid] for pid in floor_rules.queue_order(state) if pid in seat]
    poll = next((p for p in reversed(list(state.polls.values())) if p.status == "open"), None)
    return {
        "position": state.position,
        "mic_mode": state.floor.mic_mode,
        "max_open": state.floor.max_open,
        "open": view_open,
        "waiting": waiting,
        "poll": {"id": poll.id, "answers": list(poll.spec.get("answers") or [])} if poll else None,
    }


def floor_rules_open(state: SessionState) -> list[str]:
    """Participants whose microphone the policy holds open, oldest first."""
    from appliance.meeting import microphones

    return microphones.heard(floor_rules.policy(state), floor_rules.open_mics(state))


class HardwareBoard:
    """The devices program's last report and the floor plan it follows."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.units: dict[str, dict[str, Any]] = {}
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENT_LOG)
        self.displays: dict[str, dict[str, Any]] = {}
        self.assignments: dict[str, str] = {}
        self.source = ""
        self.reported_at: float | None = None
        self._changed = asyncio.Condition()
        self._version = 0
        self._closing = False

    # -- the server side ------------------------------------------------------
    def saw(self, position: int, events: list[Event]) -> None:
        """A listener of the service: wake the devices program when its plan may have changed."""
        if any(e.type in PLAN_EVENTS for e in events):
            self._bump()

    def _bump(self) -> None:
        self._version += 1

        async def notify() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # no loop: nobody can be waiting
            asyncio.get_running_loop().create_task(notify())

    async def release(self) -> None:
        """On shutdown: answer every waiting long poll now, so none is cut off mid-request."""
        self._closing = True
        self._bump()
        async with self._changed:
            self._changed.notify_all()

    async def wait_plan(self, after: int, timeout: float) -> dict[str, Any]:
        """The plan once the state is past ``after`` (or at once), else after ``timeout``."""
        state = self.appliance.state
        if state.position <= after and not self._closing:
            version = self._version
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: self._version != version), timeout)
        return plan(self.appliance.state)

    # -- reports from `phs devices` -----------------------------------------------
    def note(self, seat: str, kind: str, detail: str = "") -> None:
        """One line of the technician's event list (never a key's value)."""
        self.events.appendleft({"at": time.time(), "seat": seat, "type": kind, "detail": detail})
        unit = self.units.setdefault(seat, {"seat": seat, "online": True})
        unit["last_event"] = kind
        if kind in ("online", "offline"):
            unit["online"] = kind == "online"

    def report(self, body: dict[str, Any]) -> None:
        """The devices program's status: its conference system and every unit it knows."""
        self.source = str(body.get("source", ""))[:40]
        self.reported_at = time.time()
        for raw in body.get("units") or []:
            if isinstance(raw, dict) and raw.get("seat") is not None:
                seat = str(raw["seat"])[:10]
                unit = self.units.setdefault(seat, {"seat": seat})
                unit.update({k: raw[k] for k in ("online", "firmware", "relay", "indicator", "errors") if k in raw})
        for raw in body.get("displays") or []:
            if isinstance(raw, dict) and raw.get("connector"):
                name = str(raw["connector"])[:40]
                self.displays[name] = {
                    "connector": name,
                    "connected": bool(raw.get("connected")),
                    "running": bool(raw.get("running")),
                    "view": self.assignments.get(name, "hall"),
                }

    def technician_view(self) -> dict[str, Any]:
        """What the technician screen lists: units by unit id, each with the seat it is wired
        to (``seat_number``) and who sits there, the last events, display outputs."""
        state = self.appliance.state
        wired = {unit: number for number, unit in seating.seat_units(state).items()}
        units = []
        for raw in sorted(self.units.values(), key=lambda u: (len(str(u["seat"])), str(u["seat"]))):
            unit = str(raw["seat"])
            # Without a plan a unit is the seat of its own number (seating.unit_at).
            number = wired.get(unit) if state.seating.seats else (int(unit) if unit.isdigit() else None)
            person = seating.participant_at_unit(state, unit)
            units.append({
                **raw,
                "seat_number": number,
                "participant_id": person.id if person else None,
                "delegate": person.name if person else None,
            })
        return {
            "source": self.source,
            "reported_at": self.reported_at,
            "units": units,
            "online": sum(1 for u in units if u.get("online")),
            "events": list(self.events),
            "displays": sorted(self.displays.values(), key=lambda d: str(d["connector"])),
            "assignments": dict(self.assignments),
            "views": list(VIEWS),
        }
