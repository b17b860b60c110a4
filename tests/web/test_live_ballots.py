"""Ballots cast over the live WebSocket, on the real server: same rules, acknowledged once durable."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.web.realserver import Driver

NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Vũ Thị Giang"]


async def _acks(ws: Any, want: int) -> list[dict[str, Any]]:
    """Read live messages until ``want`` acks arrived (updates in between are skipped)."""
    out: list[dict[str, Any]] = []
    while len(out) < want:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message.get("type") == "ack":
            out.append(message)
    return out


async def test_live_ballots_count_once_and_follow_the_same_rules(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    url = d.server.base_url.replace("http://", "ws://") + "/api/live"
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        for i in range(1, 6):
            await c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}"))
        poll = (await c.post("/api/polls", json={"question": "Bầu?", "method": "secret"}, headers=d.h("d1"))).json()
        pid = poll["poll"]["id"]
        async with connect(url, additional_headers=d.h("d2"), proxy=None) as ws2, \
                connect(url, additional_headers=d.h("d6"), proxy=None) as ws6:
            # A double-tapping tablet: ten resends of one ballot, then ten new ballots.
            for _ in range(10):
                await ws2.send(json.dumps({"type": "vote", "id": "tap-1", "poll_id": pid, "answer": "for"}))
            for n in range(10):
                await ws2.send(json.dumps({"type": "vote", "id": f"tap-{n + 2}", "poll_id": pid, "answer": "against"}))
            acks = await _acks(ws2, 20)
            same = [a for a in acks if a["id"] == "tap-1"]
            assert [a["ok"] for a in same] == [True] * 10
            assert {a["position"] for a in same} == {same[0]["position"]}
            assert sorted(a["code"] for a in acks if a["id"] != "tap-1") == ["already_voted"] * 10
            # The acknowledgement of a secret ballot carries no choice.
            assert set(same[0]) == {"type", "id", "ok", "position"}
            # The same id with another answer gets the first outcome: in a secret poll the
            # request's fingerprint leaves the choice out, so nothing on disk hashes it.
            await ws2.send(json.dumps({"type": "vote", "id": "tap-1", "poll_id": pid, "answer": "against"}))
            assert [(a["ok"], a["position"]) for a in await _acks(ws2, 1)] == [(True, same[0]["position"])]
            # Delegate 6 did not check in; a ballot without an id is malformed.
            await ws6.send(json.dumps({"type": "vote", "id": "x", "poll_id": pid, "answer": "for"}))
            await ws6.send(json.dumps({"type": "vote", "poll_id": pid, "answer": "for"}))
            refused = await _acks(ws6, 2)
            assert [(a["ok"], a["code"]) for a in refused] == [(False, "not_present"), (False, "invalid")]
            assert refused[0]["message"] == "Đại biểu chưa điểm danh nên chưa thể biểu quyết."
            closed = (await c.post(f"/api/polls/{pid}/close", json={}, headers=d.h("d1"))).json()["poll"]
            assert (closed["result"]["counts"]["for"], closed["result"]["counts"]["against"]) == (1, 0)
            await ws2.send(json.dumps({"type": "vote", "id": "late", "poll_id": pid, "answer": "for"}))
            assert [a["code"] for a in await _acks(ws2, 1)] == ["poll_closed"]
    await d.server.stop()


BODY30 = [f"Đại biểu Số {i:02d}" for i in range(1, 31)]


async def test_live_progress_never_goes_backwards_during_a_burst(tmp_path: Path) -> None:
    """Thirty tablets vote at once on their sockets; the chair's screen sees 0..29, never a step back."""
    d = Driver(tmp_path)
    await d.setup(BODY30)
    url = d.server.base_url.replace("http://", "ws://") + "/api/live"
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, 31)))
        pid = (await c.post("/api/polls", json={"question": "Tán thành?", "method": "secret"}, headers=d.h("d1"))).json()["poll"]["id"]
        tablets = [await connect(url, additional_headers=d.h(f"d{i}"), proxy=None) for i in range(2, 31)]
        seen: list[int] = []
        sections: set[str] = set()
        async with connect(url, additional_headers=d.h("d1"), proxy=None) as chair:
            async def watch() -> None:
                while not seen or seen[-1] < 29:
                    message = json.loads(await asyncio.wait_for(chair.recv(), 10))
                    if message["type"] == "snapshot":
                        seen.extend(p["voted"] for p in message["state"]["polls"] if p["id"] == pid)
                        continue
                    sections.update(message.get("changed") or {})
                    progress = (message.get("changed") or {}).get("poll_progress") or {}
                    seen.extend(p["voted"] for poll_id, p in progress.items() if poll_id == pid)

            watcher = asyncio.create_task(watch())
            await asyncio.gather(*(ws.send(json.dumps({"type": "vote", "id": "b", "poll_id": pid, "answer": "for"}))
                                   for ws in tablets))
            assert [a["ok"] for ws in tablets for a in await _acks(ws, 1)] == [True] * 29
            await asyncio.wait_for(watcher, 10)
        for ws in tablets:
            await ws.close()
    assert seen == sorted(seen) and seen[-1] == 29 and seen[0] == 0
    # Ballots move only the progress section (and the voter's own "me"), never every poll again.
    assert sections <= {"poll_progress", "me"}
    await d.server.stop()


RACERS = [f"Đại biểu Đua {i:02d}" for i in range(1, 41)]


async def test_a_live_ballot_racing_the_close_is_counted_or_refused_never_half(tmp_path: Path) -> None:
    """39 tablets vote on their sockets while the chair closes: every ack is ok or poll_closed, and the oks are the count."""
    d = Driver(tmp_path)
    await d.setup(RACERS)
    url = d.server.base_url.replace("http://", "ws://") + "/api/live"
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, 41)))
        tablets = [await connect(url, additional_headers=d.h(f"d{i}"), proxy=None) for i in range(2, 41)]
        for round_, method in enumerate(("secret", "public", "secret")):
            r = await c.post("/api/polls", json={"question": "Tán thành?", "method": method}, headers=d.h("d1"))
            pid = r.json()["poll"]["id"]

            async def vote(ws: Any, pid: str = pid) -> dict[str, Any]:
                await asyncio.sleep(random.uniform(0, 0.03))
                await ws.send(json.dumps({"type": "vote", "id": f"r-{pid}", "poll_id": pid, "answer": "for"}))
                return (await _acks(ws, 1))[0]

            async def close(pid: str = pid, round_: int = round_) -> Any:
                await asyncio.sleep(0.01 + 0.005 * round_)
                return await c.post(f"/api/polls/{pid}/close", json={}, headers=d.h("d1"))

            *acks, closing = await asyncio.gather(*(vote(ws) for ws in tablets), close())
            result = closing.json()["poll"]["result"]
            assert {a.get("code") for a in acks if not a["ok"]} <= {"poll_closed"}
            assert result["counts"]["for"] == result["turnout"] == sum(1 for a in acks if a["ok"])
        for ws in tablets:
            await ws.close()
    await d.server.stop()
