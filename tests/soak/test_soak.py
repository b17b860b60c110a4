"""A two-hour sitting compressed into minutes against the real ``phs serve`` process.

A province council of 60 delegates sits for two busy hours: 24 rounds of five minutes,
each with ten delegates stepping out and back, ten floor requests granted and ended, two
votes of all 60 (public, then secret), 120 group messages and 30 tablets dropping and
re-opening their live connection. A real sitting spreads that over two hours; here it
runs at one to two hundred times the rate, in about a minute or two.

The server's resident memory (``VmRSS`` of /proc/PID/status) and open file descriptors
(/proc/PID/fd) are sampled every ``SAMPLE_S`` seconds. After the warm-up (the first
``WARM_UP`` rounds: caches, the journal segment and the worker pools settle) the
bound is: RSS at most ``RSS_BOUND_MB`` (40 MB) above its post-warm-up level, at the end
and at the worst sample; open descriptors at most ``FD_BOUND`` (8) above theirs, read at
the end of each round, when no request or live connection is in flight (the samples in
between see up to 30 tablets reconnecting at once, which is load, not a leak).
What the sitting itself adds in memory (about 7,000 records) is well inside that; a leak
per request, connection or poll is not. Marked ``slow``: run by
``.venv/bin/pytest -m slow tests/soak -q``, figures in bench/RESULTS.md ("Soak").
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

from tests.web.realserver import Driver

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

DELEGATES = 60
ROUNDS = 24  # of five minutes each: two hours
WARM_UP = 4
SAMPLE_S = 2.0
RSS_BOUND_MB = 40.0
FD_BOUND = 8
NAMES = [f"Đại biểu {n:02d}" for n in range(1, DELEGATES + 1)]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc/PID/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def open_fds(pid: int) -> int:
    """Open file descriptors of a process: the entries of /proc/PID/fd."""
    return len(os.listdir(f"/proc/{pid}/fd"))


class Sampler:
    """Samples the server every ``SAMPLE_S`` seconds, tagged with the round in play."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.round = 0
        self.samples: list[tuple[float, int, float, int]] = []  # (t, round, rss MB, fds)
        self.quiet: list[tuple[float, int, float, int]] = []  # the same, at the end of each round
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        self.samples.append((time.monotonic(), self.round, rss_mb(self.pid), open_fds(self.pid)))

    def round_ended(self) -> None:
        self.sample()
        self.quiet.append(self.samples[-1])

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_S)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.sample()


async def _ok(response: Any) -> dict[str, Any]:
    reply = await response
    assert reply.status_code == 200, (reply.request.url, reply.status_code, reply.text[:300])
    return dict(reply.json())


async def _all(calls: list[Any]) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(_ok(c) for c in calls)))


async def _tablets_reconnect(d: Driver, who: list[str]) -> int:
    """Each tablet opens the live channel, reads its snapshot, pings and drops the socket."""
    url = d.server.base_url.replace("http://", "ws://") + "/api/live"

    async def one(key: str) -> int:
        async with connect(url, additional_headers=d.h(key), proxy=None, open_timeout=10) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 10))
            await ws.send('{"type": "ping"}')
            while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("type") != "pong":
                pass
            return 1 if first.get("type") == "snapshot" else 0

    return sum(await asyncio.gather(*(one(k) for k in who)))


async def _round(d: Driver, c: Any, n: int, groups: list[str]) -> dict[str, int]:
    """Ten minutes of the sitting, at once."""
    h = d.h
    everyone = [f"d{i}" for i in range(1, DELEGATES + 1)]
    stepping_out = everyone[(n * 10) % 50 + 10 : (n * 10) % 50 + 20]
    await _all([c.post("/api/attendance/check-out", json={}, headers=h(k)) for k in stepping_out])
    await _all([c.post("/api/attendance/check-in", json={}, headers=h(k)) for k in stepping_out])
    speakers = everyone[2 + n : 12 + n]
    await _all([c.post("/api/floor/request", json={"kind": "speak"}, headers=h(k)) for k in speakers])
    for _ in speakers:
        await _ok(c.post("/api/floor/grant", json={"to": "next"}, headers=h("d1")))
        await _ok(c.post("/api/floor/end", json={"to": "all"}, headers=h("d1")))
    answers = ["for"] * 40 + ["against"] * 15 + ["abstain"] * 5
    for method in ("public", "secret"):
        poll = await _ok(c.post("/api/polls", headers=h("d1"), json={
            "question": f"Tán thành nội dung {n + 1} ({method})?", "method": method, "rule": "more_than_half_of_total"}))
        pid = poll["poll"]["id"]
        await _all([c.post(f"/api/polls/{pid}/ballots", json={"answer": a}, headers=h(k))
                    for k, a in zip(everyone, answers, strict=True)])
        closed = await _ok(c.post(f"/api/polls/{pid}/close", json={}, headers=h("d1")))
        assert closed["poll"]["id"] == pid
    posts = await _all([c.post(f"/api/groups/{groups[i // 30]}/messages", headers=h(k),
                               json={"text": f"Vòng {n + 1}: ý kiến {r + 1} của đại biểu {i + 1}."})
                        for r in range(2) for i, k in enumerate(everyone)])
    snapshots = await _tablets_reconnect(d, everyone[n % 30 : n % 30 + 30])
    return {"ballots": 2 * len(answers), "posts": len(posts), "snapshots": snapshots}


async def test_a_compressed_two_hour_sitting_does_not_grow_memory_or_descriptors(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    proc = d.server._proc
    assert proc is not None
    sampler = Sampler(proc.pid)
    started = time.monotonic()
    try:
        async with d.client() as c:
            await _ok(c.post("/api/sitting/open", json={}, headers=d.h("d1")))
            await _all([c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}"))
                        for i in range(1, DELEGATES + 1)])
            made = await _ok(c.post("/api/groups", headers=d.h("secretary"), json={"mode": "manual", "groups": [
                {"name": "Tổ 1", "members": [d.ids[f"d{i}"] for i in range(1, 31)]},
                {"name": "Tổ 2", "members": [d.ids[f"d{i}"] for i in range(31, 61)]}]}))
            groups = [g["id"] for g in made["groups"]]
            sampler.start()
            totals = {"ballots": 0, "posts": 0, "snapshots": 0}
            for n in range(ROUNDS):
                sampler.round = n
                done = await _round(d, c, n, groups)
                for key in totals:
                    totals[key] += done[key]
                sampler.round_ended()
            state = await _ok(c.get("/api/state", headers=d.h("secretary")))
        await sampler.stop()
    finally:
        await d.server.stop()
    elapsed = time.monotonic() - started
    assert totals == {"ballots": ROUNDS * 120, "posts": ROUNDS * 120, "snapshots": ROUNDS * 30}
    assert int(state["position"]) > ROUNDS * 270

    warm = [s for s in sampler.samples if s[1] >= WARM_UP]
    assert len(warm) >= 5, sampler.samples
    quiet = [s for s in sampler.quiet if s[1] >= WARM_UP]
    base_rss, base_fds = warm[0][2], quiet[0][3]
    peak_rss, peak_fds = max(s[2] for s in warm), max(s[3] for s in quiet)
    end_rss, end_fds = warm[-1][2], quiet[-1][3]
    print(json.dumps({
        "elapsed_s": round(elapsed, 1), "samples": len(sampler.samples), "position": state["position"],
        "rss_mb": {"first": round(sampler.samples[0][2], 1), "after_warm_up": round(base_rss, 1),
                   "peak": round(peak_rss, 1), "end": round(end_rss, 1)},
        "fds_between_rounds": {"first": sampler.quiet[0][3], "after_warm_up": base_fds, "peak": peak_fds,
                               "end": end_fds},
        "fds_in_flight_peak": max(s[3] for s in sampler.samples),
        "rss_by_round_mb": [round(s[2], 1) for s in sampler.quiet],
        "fds_by_round": [s[3] for s in sampler.quiet],
    }))
    assert peak_rss - base_rss <= RSS_BOUND_MB, (base_rss, peak_rss)
    assert end_rss - base_rss <= RSS_BOUND_MB, (base_rss, end_rss)
    assert peak_fds - base_fds <= FD_BOUND, (base_fds, peak_fds)
    assert end_fds - base_fds <= FD_BOUND, (base_fds, end_fds)
