"""Crash torture on the real server: a vote of many concurrent delegates, SIGKILL at a random moment.

One round: open a poll, every delegate votes at once (each with its own Idempotency-Key),
the server is killed at a random moment while ballots are in flight, restarted, and every
ballot that was not acknowledged is retried with the same key. Then the poll closes and
the round checks that every acknowledged ballot is there, that each delegate is counted
exactly once (counts == voters), and that the chain verifies through the API and
through ``phs journal verify``. Shared by the test suite (3 rounds) and the bench (50).
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.web.realserver import Driver

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Tally:
    """What the rounds saw."""

    rounds: int = 0
    acknowledged: int = 0  # ballots answered 200 before the kill
    in_flight: int = 0  # ballots cut off by the kill (retried after the restart)
    lost: int = 0  # acknowledged but missing after the restart: must stay 0
    duplicates: int = 0  # counted more than once: must stay 0
    chain_faults: int = 0  # API or CLI verification failed: must stay 0
    kill_after_ms: list[float] = field(default_factory=list)


def cli_verify(d: Driver) -> int:
    """``phs journal verify`` in its own process, as an operator would run it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "appliance.cli", "journal", "verify", "--data", str(d.data_dir), "--keys", str(d.server.keys_dir)]
    return subprocess.run(argv, capture_output=True, env=env, cwd=REPO, timeout=120).returncode


async def prepare(root: Path, delegates: int) -> Driver:
    """A body of ``delegates``, all paired and present, the sitting open."""
    d = Driver(root)
    await d.setup([f"Đại biểu Thử {i:03d}" for i in range(delegates)])
    async with d.client() as c:
        await c.post("/api/sitting/open", json={"confirmed_wall": time.time()}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, delegates + 1)))
    return d


async def round_(d: Driver, n: int, delegates: int, tally: Tally, *, cli_every: int = 1) -> None:
    """One vote, one power cut, one restart, the retries and the checks."""
    async with d.client() as c:
        poll = (await c.post("/api/polls", json={"question": f"Lượt {n}"}, headers=d.h("d1"))).json()["poll"]["id"]
        acked: set[str] = set()

        async def vote(i: int) -> None:
            headers = {**d.h(f"d{i}"), "Idempotency-Key": f"round-{n}-d{i}"}
            try:
                r = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=headers)
            except Exception:
                return
            if r.status_code == 200:
                acked.add(f"d{i}")

        tasks = [asyncio.create_task(vote(i)) for i in range(1, delegates + 1)]
        delay = random.uniform(0.0, 0.25)
        tally.kill_after_ms.append(round(delay * 1000, 1))
        await asyncio.sleep(delay)
        await d.server.stop(hard=True)  # the power cut
        await asyncio.gather(*tasks)
    await d.server.start()
    tally.rounds += 1
    tally.acknowledged += len(acked)
    tally.in_flight += delegates - len(acked)
    async with d.client() as c:
        before = (await c.get(f"/api/polls/{poll}", headers=d.h("d1"))).json()["poll"]
        recorded_before = before["voted"]
        for i in range(1, delegates + 1):  # the tablets resend what was never acknowledged
            if f"d{i}" not in acked:
                headers = {**d.h(f"d{i}"), "Idempotency-Key": f"round-{n}-d{i}"}
                r = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=headers)
                assert r.status_code == 200, r.text
        closed = (await c.post(f"/api/polls/{poll}/close", json={}, headers=d.h("d1"))).json()["poll"]
        check = (await c.get("/api/journal/verify", headers=d.h("secretary"))).json()
    voters = [row["participant_id"] for row in closed["result"]["per_delegate"]]
    ids = {d.ids[k] for k in acked}
    tally.lost += len(ids - set(voters)) + max(0, len(acked) - recorded_before)
    tally.duplicates += (closed["result"]["counts"]["for"] - len(set(voters))) + (len(voters) - len(set(voters)))
    tally.duplicates += max(0, closed["result"]["counts"]["for"] - delegates)
    assert closed["result"]["counts"]["for"] == delegates, closed["result"]["counts"]
    if not check["ok"] or (n % cli_every == 0 and cli_verify(d) != 0):
        tally.chain_faults += 1
