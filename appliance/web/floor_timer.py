"""Automatic microphone-off when a speaker's time is up (thời gian phát biểu hết).

After every published change the timer looks at the speakers: with ``auto_off`` set
and an allowance, the speech's deadline is its grant (monotonic) plus the allowance;
the chair's extension moves it. At the deadline the system actor sends ``end_floor``
with ``if_over``, judged like any command: if the chair extended the speech a moment
before, the rules see it is not over and nothing ends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from appliance.core.errors import PhsError
from appliance.core.events import Event
from appliance.meeting.decide import Command
from appliance.web.deadlines import Deadlines

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.floor")

FLOOR_EVENTS = frozenset(
    {"floor_granted", "floor_ended", "floor_extended", "speech_limits_set", "sitting_closed", "sitting_opened"}
)


class FloorTimer:
    """Keeps one deadline per timed speaker of the sitting."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.deadlines = Deadlines(lambda: appliance.clock.now().mono)

    def saw(self, position: int, events: list[Event]) -> None:
        """A listener of the service: re-plan when the floor changed."""
        if any(e.type in FLOOR_EVENTS for e in events):
            self.plan()

    def plan(self) -> None:
        """One deadline per speaker whose microphone closes by itself; none for the others."""
        floor = self.appliance.state.floor
        wanted: dict[str, float] = {}
        if floor.auto_off:
            for entry in floor.speaking:
                if entry.limit_s is not None:
                    wanted[entry.participant_id] = entry.mono + entry.limit_s
        for key in self.deadlines.keys():  # noqa: SIM118 - a list: we cancel while walking
            if key not in wanted:
                self.deadlines.cancel(key)
        for pid, at in wanted.items():
            if self.deadlines.due(pid) != at:
                self.deadlines.set(pid, at, lambda pid=pid: self._end(pid))  # type: ignore[misc]

    async def fire_due(self) -> int:
        """Run what is due now (tests on a fixed clock)."""
        return await self.deadlines.fire_due()

    async def _end(self, pid: str) -> None:
        from appliance.web.service import SYSTEM

        try:
            await self.appliance.execute(SYSTEM, Command("end_floor", {"to": pid, "if_over": True}))
            log.info("microphone closed at the end of the allowance", extra={"participant": pid})
        except PhsError as err:  # ended by the chair a moment before
            log.debug("automatic end skipped", extra={"participant": pid, "code": err.code})
