"""Benchmark: 500 delegates vote within one second against the real server.

A real ``phs serve`` on a loopback port; 500 delegates paired through the API, checked
in, each holding its own live WebSocket like a tablet. A secret poll opens (the slower
path: ballot box staging + journal), every delegate casts at a random moment within one
second, and we measure:

- send -> durable acknowledgement of each ballot (p50, p99; the server answers only
  after the journal fsync);
- from the last acknowledgement, and from the chair's close request, to the closed
  result arriving on a hall display's live connection;
- ballots lost (acknowledged but not in the result): must be 0;
- the server's resident memory.

Beside it, in the same run: raw write+fsync latency in the data directory and the round
trip of a bare ``websockets`` echo server with 500 clients, so the figures have a floor.
Targets: p99 ack < 250 ms; result on the display within 200 ms of the close.

Ballots travel on each tablet's open WebSocket (``{"type": "vote"}``, acknowledged on the
same socket once durable: appliance/web/live_ballots.py); ``--via http`` sends one
``POST /api/polls/{id}/ballots`` per ballot instead, the path the first figures used.

``--earlier N`` first runs N public votes of all 500 and closes them, as a long sitting
would have, so every update of the live channel carries their results too.

Usage: .venv/bin/python bench/bench_vote_burst.py [--delegates 500] [--method secret|public] [--via live|http] [--earlier N]
Ends with one JSON line: {"bench": "vote_burst", "figures": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import websockets  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import serve  # noqa: E402

from appliance.scenario.server import LocalAppliance  # noqa: E402


def pct(values: list[float], p: float) -> float:
    """The p-th percentile in milliseconds (nearest rank)."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1)


def raw_fsync(directory: Path, n: int = 300) -> dict[str, float]:
    """write(200 bytes) + fsync in a loop: the floor under every durable ack."""
    path = directory / "fsync.bench"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        os.write(fd, os.urandom(200))
        os.fsync(fd)
        times.append(time.perf_counter() - t)
    os.close(fd)
    path.unlink()
    return {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99)}


async def echo_round_trip(clients: int) -> dict[str, float]:
    """A bare websockets echo server; each client sends once within one second."""
    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async with serve(echo, "127.0.0.1", 0, max_size=2**16) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        conns = [await connect(f"ws://127.0.0.1:{port}", proxy=None) for _ in range(clients)]
        times: list[float] = []

        async def one(ws: Any) -> None:
            await asyncio.sleep(random.uniform(0, 1))
            t = time.perf_counter()
            await ws.send("x" * 64)
            await ws.recv()
            times.append(time.perf_counter() - t)

        await asyncio.gather(*(one(ws) for ws in conns))
        await asyncio.gather(*(ws.close() for ws in conns))
    return {"p50_ms": pct(times, 50), "p99_ms": pct(times, 99)}


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def setup(c: httpx.AsyncClient, server: LocalAppliance, n: int) -> tuple[dict[str, str], str]:
    """Pair a secretary, create n delegates (delegate 1 chairs), pair a display and every delegate."""
    sec = (await c.post("/api/pair", json={"code": server.setup_code})).json()["token"]
    h = {"Authorization": f"Bearer {sec}"}
    await c.post("/api/setup", json={"body": "Bench", "session": "Kỳ họp"}, headers=h)
    rows = [{"name": f"Đại biểu {i:03d}", "role": "chair" if i == 1 else "delegate", "seat": i} for i in range(1, n + 1)]
    rows.append({"name": "Màn hình", "role": "display"})
    made = (await c.post("/api/participants", json={"participants": rows}, headers=h)).json()["participants"]
    tokens: dict[str, str] = {}
    sem = asyncio.Semaphore(50)

    async def pair(p: dict[str, Any]) -> None:
        async with sem:
            code = (await c.post("/api/pairing-codes", json={"participant_id": p["id"]}, headers=h)).json()["code"]
            tokens[p["id"]] = (await c.post("/api/pair", json={"code": code})).json()["token"]

    await asyncio.gather(*(pair(p) for p in made))
    display = next(p["id"] for p in made if p["role"] == "display")
    return {p["id"]: tokens[p["id"]] for p in made if p["role"] != "display"}, tokens[display]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="phs-bench-vote-"))
    (root / "logs").mkdir()
    server = LocalAppliance(root / "data", root / "keys", root / "logs")
    await server.start()
    assert server._proc is not None
    pid = server._proc.pid
    limits = httpx.Limits(max_connections=args.delegates + 50, max_keepalive_connections=args.delegates + 50)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits, trust_env=False) as c:
        t0 = time.perf_counter()
        tokens, display_token = await setup(c, server, args.delegates)
        setup_s = time.perf_counter() - t0
        ids = list(tokens)
        chair = {"Authorization": f"Bearer {tokens[ids[0]]}"}
        await c.post("/api/sitting/open", json={}, headers=chair)
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers={"Authorization": f"Bearer {tokens[p]}"}) for p in ids))
        ws_url = server.base_url.replace("http://", "ws://") + "/api/live"
        tablets = [await connect(ws_url, additional_headers={"Authorization": f"Bearer {tokens[p]}"}, proxy=None,
                                 max_size=2**24) for p in ids]
        pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        target: dict[str, Any] = {"poll": None, "seen": []}  # when each tablet saw the closed result
        drain = [asyncio.create_task(_drain(ws, pending, target)) for ws in tablets]
        sockets = dict(zip(ids, tablets, strict=True))
        t = time.perf_counter()  # the HTTP floor on this machine: 500 concurrent trivial requests
        await asyncio.gather(*(c.get("/api/health") for _ in ids))
        http_floor_s = time.perf_counter() - t
        for n in range(args.earlier):
            # Earlier public votes of the sitting: each result carries its 500-name list.
            r = await c.post("/api/polls", json={"question": f"Biểu quyết trước {n + 1}?"}, headers=chair)
            earlier = r.json()["poll"]["id"]
            await asyncio.gather(*(ws.send(json.dumps({"type": "vote", "id": f"e{n}", "poll_id": earlier, "answer": "for"}))
                                   for ws in tablets))
            for _ in range(50):
                if (await c.get(f"/api/polls/{earlier}", headers=chair)).json()["poll"]["voted"] == len(ids):
                    break
                await asyncio.sleep(0.1)
            await c.post(f"/api/polls/{earlier}/close", json={}, headers=chair)
        await asyncio.sleep(args.settle)
        # The hall display connects now (a reader that started earlier would have to drain the earlier polls).
        display = await connect(ws_url, additional_headers={"Authorization": f"Bearer {display_token}"}, proxy=None,
                                max_size=2**24)
        r = await c.post("/api/polls", json={"question": "Tán thành?", "method": args.method}, headers=chair)
        poll = r.json()["poll"]["id"]
        target["poll"] = poll
        closed_at: list[float] = []
        watcher = asyncio.create_task(_watch(display, poll, closed_at))
        acks: dict[str, float] = {}
        lat: list[float] = []
        failures: list[str] = []

        async def vote(p: str) -> None:
            await asyncio.sleep(random.uniform(0, 1))
            t = time.perf_counter()
            if args.via == "http":
                resp = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"},
                                    headers={"Authorization": f"Bearer {tokens[p]}"})
                ok, text = resp.status_code == 200, resp.text[:100]
            else:
                fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
                pending[p] = fut
                await sockets[p].send(json.dumps({"type": "vote", "id": p, "poll_id": poll, "answer": "for"}))
                ack = await fut
                ok, text = bool(ack.get("ok")), str(ack.get("code"))
            done = time.perf_counter()
            if ok:
                acks[p] = done
                lat.append(done - t)
            else:
                failures.append(text)

        rss_before = rss_mb(pid)
        burst = time.perf_counter()
        await asyncio.gather(*(vote(p) for p in ids))
        last_ack = max(acks.values())
        close_sent = time.perf_counter()
        closing = await c.post(f"/api/polls/{poll}/close", json={}, headers=chair)
        await asyncio.wait_for(watcher, 10)
        for _ in range(300):  # every tablet's copy of the result, up to 30 s
            if len(target["seen"]) == len(tablets):
                break
            await asyncio.sleep(0.1)
        result = closing.json()["poll"]["result"]
        rss_after = rss_mb(pid)
        for task in drain:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in [*tablets, display]), return_exceptions=True)
    await server.stop()
    fsync = raw_fsync(root)
    echo = await echo_round_trip(args.delegates)
    return {
        "bench": "vote_burst",
        "delegates": args.delegates,
        "method": args.method,
        "via": args.via,
        "earlier_polls": args.earlier,
        "setup_s": round(setup_s, 1),
        "burst_s": round(last_ack - burst, 2),
        "ack_p50_ms": pct(lat, 50),
        "ack_p99_ms": pct(lat, 99),
        "ack_max_ms": round(max(lat) * 1000, 1),
        "last_ballot_to_display_result_ms": round((closed_at[0] - last_ack) * 1000, 1),
        "close_to_display_result_ms": round((closed_at[0] - close_sent) * 1000, 1),
        "close_to_last_tablet_result_ms": round((max(target["seen"]) - close_sent) * 1000, 1) if target["seen"] else None,
        "tablets_with_result": len(target["seen"]),
        "acknowledged": len(acks),
        "refused": len(failures),
        "counted": result["counts"]["for"],
        "ballots_lost": len(acks) - result["counts"]["for"],
        "server_rss_mb": {"before_burst": rss_before, "after": rss_after},
        "raw_fsync": fsync,
        "http_500_health_s": round(http_floor_s, 2),
        "bare_ws_echo_500": echo,
        "ack_p99_over_echo_p99": round(pct(lat, 99) / max(echo["p99_ms"], 0.1), 1),
        "ack_p99_over_fsync_p99": round(pct(lat, 99) / max(fsync["p99_ms"], 0.1), 1),
        "cpus": os.cpu_count(),
        "targets": {"ack_p99_ms": 250, "close_to_display_result_ms": 200},
    }


async def _drain(ws: Any, pending: dict[str, asyncio.Future[dict[str, Any]]], target: dict[str, Any]) -> None:
    """Read a tablet's live messages; an ack resolves its waiter; note when the result arrives."""
    try:
        async for raw in ws:
            if target["poll"] and '"polls"' in raw and f'"{target["poll"]}"' in raw:
                polls = (json.loads(raw).get("changed") or {}).get("polls") or []
                if any(p.get("id") == target["poll"] and p.get("status") == "closed" for p in polls):
                    target["seen"].append(time.perf_counter())
                continue
            if raw.startswith('{"type": "ack"'):
                ack = json.loads(raw)
                fut = pending.pop(str(ack.get("id")), None)
                if fut is not None and not fut.done():
                    fut.set_result(ack)
    except (websockets.WebSocketException, asyncio.CancelledError):
        return


async def _watch(ws: Any, poll: str, closed_at: list[float]) -> None:
    """Wait for the display's live update that carries the poll's result."""
    async for raw in ws:
        message = json.loads(raw)
        polls = (message.get("changed") or message.get("state") or {}).get("polls") or []
        if any(p.get("id") == poll and p.get("status") == "closed" and p.get("result") for p in polls):
            closed_at.append(time.perf_counter())
            return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delegates", type=int, default=500)
    parser.add_argument("--method", choices=["secret", "public"], default="secret")
    parser.add_argument("--via", choices=["live", "http"], default="live")
    parser.add_argument("--earlier", type=int, default=0, help="closed public polls before the burst")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds between the earlier polls and the burst")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(f"delegates {figures['delegates']} ({figures['method']} poll, ballots via {figures['via']}, {figures['earlier_polls']} earlier polls), set-up {figures['setup_s']} s, "
          f"burst {figures['burst_s']} s")
    print(f"send -> durable ack: p50 {figures['ack_p50_ms']} ms, p99 {figures['ack_p99_ms']} ms "
          f"(target < 250), max {figures['ack_max_ms']} ms")
    print(f"close -> result on display: {figures['close_to_display_result_ms']} ms (target < 200); "
          f"last ballot -> result on display: {figures['last_ballot_to_display_result_ms']} ms")
    print(f"close -> result on the last of {figures['tablets_with_result']} tablets: "
          f"{figures['close_to_last_tablet_result_ms']} ms")
    print(f"acknowledged {figures['acknowledged']}, refused {figures['refused']}, counted {figures['counted']}, "
          f"lost {figures['ballots_lost']}")
    print(f"server RSS {figures['server_rss_mb']} MB")
    print(f"HTTP floor: 500 concurrent GET /api/health took {figures['http_500_health_s']} s")
    print(f"raw fsync p50 {figures['raw_fsync']['p50_ms']} ms p99 {figures['raw_fsync']['p99_ms']} ms; "
          f"bare websocket echo (500 clients) p50 {figures['bare_ws_echo_500']['p50_ms']} ms "
          f"p99 {figures['bare_ws_echo_500']['p99_ms']} ms")
    print(f"ratio: ack p99 = {figures['ack_p99_over_echo_p99']} x bare echo p99 = "
          f"{figures['ack_p99_over_fsync_p99']} x raw fsync p99")
    name = figures.pop("bench")
    print(json.dumps({"bench": name, "figures": figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
