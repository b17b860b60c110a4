"""Automatic close of a poll with a countdown: the server closes it when ``closes_at`` passes.

The close is an ordinary ``close_poll`` command from the system actor, so it is judged,
journalled and published like the chair's. Ballots that arrive after ``closes_at`` are
already refused by the rules (``poll_closed``) even if this task runs a little late, so
the counts are exact whatever the timer's jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from appliance.core.errors import PhsError
from appliance.core.events import Event
from appliance.meeting.decide import Command

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.polls")

MAX_SLEEP = 1.0  # re-check at least this often (wall clock may be set by the chair)


class PollTimer:
    """One task for every countdown of the sitting."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run until ``stop``; a poll past its deadline at start-up is closed at once."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Cancel the task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def saw(self, events: Iterable[Event]) -> None:
        """Called after each publish: a newly opened poll may carry a nearer deadline."""
        if any(e.type == "poll_opened" for e in events):
            self._wake.set()

    def _due(self) -> tuple[list[str], float]:
        now = self.appliance.clock.now().wall
        due: list[str] = []
        wait = MAX_SLEEP
        for poll in self.appliance.state.polls.values():
            if poll.status != "open" or poll.closes_at is None:
                continue
            if poll.closes_at <= now:
                due.append(poll.id)
            else:
                wait = min(wait, poll.closes_at - now)
        return due, wait

    async def _run(self) -> None:
        from appliance.web.service import SYSTEM

        while True:
            due, wait = self._due()
            for poll_id in due:
                try:
                    await self.appliance.execute(SYSTEM, Command("close_poll", {"poll_id": poll_id}))
                    log.info("poll closed by its countdown", extra={"poll": poll_id})
                except PhsError as err:  # the chair closed it a moment before: nothing to do
                    log.debug("countdown close skipped", extra={"poll": poll_id, "code": err.code})
                except Exception:  # noqa: BLE001 - keep the countdowns alive; the cause is logged
                    log.exception("countdown close failed", extra={"poll": poll_id})
                    await asyncio.sleep(MAX_SLEEP)
            if due:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(0.005, wait))
