"""A deadline scheduler on the monotonic clock: "at this moment, call that", keyed.

The floor's automatic microphone-off (and any other countdown) sets a deadline per
key; setting the key again moves it, cancelling removes it. Deadlines run through the
event loop's timers (``call_later``), so nothing is left pending at shutdown, and a
test on a fixed clock fires what is due with ``fire_due`` instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("phs.deadlines")

Action = Callable[[], Awaitable[None]]


@dataclass
class _Deadline:
    at: float  # monotonic seconds
    action: Action
    handle: asyncio.TimerHandle | None = None


class Deadlines:
    """Keyed one-shot deadlines measured on ``mono`` (the appliance clock's monotonic reading)."""

    def __init__(self, mono: Callable[[], float]) -> None:
        self._mono = mono
        self._pending: dict[str, _Deadline] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def set(self, key: str, at: float, action: Action) -> None:
        """Run ``action`` once the monotonic clock reaches ``at``; replaces the key's deadline."""
        self.cancel(key)
        deadline = _Deadline(at, action)
        self._pending[key] = deadline
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (a pure test): ``fire_due`` runs it
        delay = max(0.0, at - self._mono())
        deadline.handle = loop.call_later(delay, self._fire, key, deadline)

    def cancel(self, key: str) -> None:
        """Forget the key's deadline, if any."""
        deadline = self._pending.pop(key, None)
        if deadline is not None and deadline.handle is not None:
            deadline.handle.cancel()

    def keys(self) -> list[str]:
        """Keys with a pending deadline."""
        return list(self._pending)

    def due(self, key: str) -> float | None:
        """When the key's deadline falls, or None."""
        deadline = self._pending.get(key)
        return deadline.at if deadline else None

    def cancel_all(self) -> None:
        """Drop every deadline (shutdown)."""
        for key in list(self._pending):
            self.cancel(key)

    async def fire_due(self) -> int:
        """Run every deadline whose moment has come, now; returns how many ran."""
        now = self._mono()
        ran = 0
        for key, deadline in list(self._pending.items()):
            if deadline.at <= now and self._pending.get(key) is deadline:
                self.cancel(key)
                await self._run(key, deadline.action)
                ran += 1
        return ran

    def _fire(self, key: str, deadline: _Deadline) -> None:
        if self._pending.get(key) is not deadline:
            return
        if deadline.at > self._mono() + 0.001:  # the loop's timer ran early against our clock
            deadline.handle = asyncio.get_running_loop().call_later(deadline.at - self._mono(), self._fire, key, deadline)
            return
        del self._pending[key]
        task = asyncio.get_running_loop().create_task(self._run(key, deadline.action))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(key: str, action: Action) -> None:
        try:
            await action()
        except Exception:  # a failed deadline must not take the others down; the cause is logged
            log.exception("deadline action failed", extra={"key": key})
