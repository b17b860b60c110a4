"""Group commit for the secret ballot box, and the order that keeps it atomic with the journal.

A secret ballot is staged in the box (pending, with a random marker, fsynced) BEFORE its
journal record is submitted; the record names the marker; once the record is durable the
marker is cleared. Concurrent ballots share one ``write`` + ``fsync``, the way the journal
batches its records, so a burst of 500 ballots costs a handful of fsyncs, not 500.
See docs/SECRET_BALLOTS.md for the design and the threat model.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from appliance.store.ballotbox import BallotBox


class BallotWriter:
    """The only code that touches the ballot box while the server runs (one batch at a time)."""

    def __init__(self, box: BallotBox) -> None:
        self.box = box
        self._casts: list[tuple[str, Any, str]] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._commits: list[str] = []
        self._discards: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def stage(self, poll_id: str, choice: Any) -> str:
        """Write the choice pending and durable; returns the marker its journal record must carry."""
        marker = secrets.token_hex(16)
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._casts.append((poll_id, choice, marker))
        self._waiters.append(fut)
        self._kick()
        await fut
        return marker

    def commit(self, marker: str) -> None:
        """The journal record is durable: re-seal the slot without its marker (next batch)."""
        self._commits.append(marker)
        self._kick()

    def discard(self, marker: str) -> None:
        """The ballot was refused after staging (the poll closed meanwhile): free its slot."""
        self._discards.append(marker)
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while self._casts or self._commits or self._discards:
            casts, waiters = self._casts, self._waiters
            commits, discards = self._commits, self._discards
            self._casts, self._waiters, self._commits, self._discards = [], [], [], []
            try:
                await asyncio.to_thread(self.box.write, casts, commits, discards)
            except Exception as exc:  # noqa: BLE001 - every waiter must hear of it
                for fut in waiters:
                    if not fut.done():
                        fut.set_exception(exc)
                continue
            for fut in waiters:
                if not fut.done():
                    fut.set_result(None)

    async def flush(self) -> None:
        """Wait until every staged, committed or discarded change is on disk (shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
