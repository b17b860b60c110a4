"""Crash torture in the suite: 3 rounds of a 30-delegate vote with SIGKILL at a random moment."""

from __future__ import annotations

import time
from pathlib import Path

from tests.web.torture import Tally, prepare, round_

DELEGATES = 30
ROUNDS = 3


async def test_power_cuts_during_a_vote_lose_nothing_and_count_nothing_twice(tmp_path: Path) -> None:
    started = time.monotonic()
    d = await prepare(tmp_path, DELEGATES)
    tally = Tally()
    for n in range(ROUNDS):
        await round_(d, n, DELEGATES, tally)
    await d.server.stop()
    assert (tally.rounds, tally.lost, tally.duplicates, tally.chain_faults) == (ROUNDS, 0, 0, 0), tally
    assert tally.acknowledged + tally.in_flight == ROUNDS * DELEGATES
    assert time.monotonic() - started < 90
