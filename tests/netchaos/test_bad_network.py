"""Tablets on a bad Wi-Fi: delays with jitter (requests overtake one another), connections
reset mid-stream, and an outage during the vote. The tablets run as their own process in
their own network namespace, reaching the box only through the chaos proxy.

Every acknowledged ballot is counted exactly once, every tablet's live view converges to
the box's state after the outage, and nothing waits forever. CI cuts the network for
3 s; the slow run cuts it for the full 30 s of the issue.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from appliance.core.text import nfc
from tests.netchaos.netns import client_namespace
from tests.netchaos.proxy import Chaos, ChaosProxy
from tests.web.realserver import Driver

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "delegates-qh-xvi-derived.csv"
ANSWERS = ["for", "for", "against", "abstain"]


def corpus_names(n: int) -> list[str]:
    with CORPUS.open(encoding="utf-8") as fh:
        return [nfc(row["ho_ten"].title()) for _, row in zip(range(n), csv.DictReader(fh), strict=False)]


async def run_hall(tmp_path: Path, delegates: int, cut_s: float, reset_p: float) -> dict[str, Any]:
    d = Driver(tmp_path)
    await d.setup(corpus_names(delegates))
    try:
        async with d.client() as c:
            await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
            for i in range(1, delegates + 1):
                await c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}"))
            r = await c.post("/api/polls", json={"question": "Tán thành thông qua Nghị quyết?",
                                                 "rule": "more_than_half_of_total"}, headers=d.h("d1"))
            poll = str(r.json()["poll"]["id"])
            opened_at = int(r.json()["position"])
        with client_namespace() as ns:
            listen = (ns.host_ip if ns else "127.0.0.1", 0)
            proxy = ChaosProxy(listen, ("127.0.0.1", d.server.port), Chaos(delay_s=0.01, jitter_s=0.08, reset_p=reset_p, seed=7))
            await proxy.start()
            base = f"http://{listen[0]}:{proxy.port}"
            plan = {
                "base": base, "ws": base.replace("http", "ws") + "/api/live", "poll": poll,
                "answers": ANSWERS, "tokens": [d.tokens[f"d{i}"] for i in range(1, delegates + 1)],
                "spread_s": 1.0 + cut_s / 2, "deadline_s": cut_s + 40.0,
                "final_position": opened_at + delegates, "seed": 11,
            }
            prefix = ns.prefix() if ns else []
            proc = await asyncio.create_subprocess_exec(
                *prefix, sys.executable, "-m", "tests.netchaos.clients", cwd=str(REPO),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )
            assert proc.stdin is not None
            proc.stdin.write(json.dumps(plan).encode())
            proc.stdin.close()
            await asyncio.sleep(0.8)
            await proxy.cut(cut_s)  # the outage, in the middle of the vote
            try:
                out, err = await asyncio.wait_for(proc.communicate(), cut_s + 90.0)
            except TimeoutError:
                proc.kill()
                raise AssertionError("the tablets waited forever") from None
            await proxy.stop()
        assert proc.returncode == 0, err.decode()[-2000:]
        report: dict[str, Any] = json.loads(out)
        async with d.client() as c:
            closed = (await c.post(f"/api/polls/{poll}/close", json={}, headers=d.h("d1"))).json()["poll"]
        report.update(poll=closed, namespace=ns is not None, proxy=proxy.stats)
        return report
    finally:
        await d.server.stop()


def folded(view: dict[str, Any]) -> dict[str, Any]:
    """The view as a tablet shows it: open polls' progress folded in (web_ui/live.js)."""
    progress = view.get("poll_progress", {})
    polls = [{**p, **progress.get(p["id"], {})} for p in view.get("polls", [])]
    return {**{k: v for k, v in view.items() if k != "position"}, "polls": polls}


def check(report: dict[str, Any], delegates: int) -> None:
    tablets = report["tablets"]
    acked = [t for t in tablets if t["ballot"]["acked"]]
    assert len(acked) == delegates, [t["ballot"] for t in tablets if not t["ballot"]["acked"]]
    counts = report["poll"]["result"]["counts"]
    wanted = {a: sum(1 for n in range(delegates) if ANSWERS[n % len(ANSWERS)] == a) for a in ("for", "against", "abstain")}
    assert counts == {**wanted, "not_voted": 0}  # each acknowledged ballot counted once
    positions = {t["ballot"]["position"] for t in acked}
    assert len(positions) == delegates  # one journal record per ballot, retries included
    for t in tablets:  # every live view converged to what the box says
        assert t["view"]["position"] == t["http"]["position"], (t["n"], t["stats"])
        assert folded(t["view"]) == folded(t["http"]), t["n"]
    assert report["proxy"].held_during_cut > 0  # the outage really held traffic


async def test_ballots_and_views_survive_a_bad_network_and_an_outage(tmp_path: Path) -> None:
    report = await run_hall(tmp_path, delegates=12, cut_s=3.0, reset_p=0.03)
    check(report, 12)


@pytest.mark.slow
async def test_thirty_second_outage_with_forty_tablets(tmp_path: Path) -> None:
    report = await run_hall(tmp_path, delegates=40, cut_s=30.0, reset_p=0.03)
    check(report, 40)
