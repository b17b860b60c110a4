"""Benchmark: discussion groups — send-to-delivery latency on every member's live connection.

A real ``phs serve`` process; a body of G×M delegates, each with a paired device and an
open live WebSocket; G groups of M members (split evenly). In every group P members post
concurrently (N messages each, paced), all groups at once. A poster sends on its own open
live socket (``{"type": "post", "id", "group_id", "text"}``, as a tablet does), or with
``--via http`` one ``POST /api/groups/{id}/messages`` each. For each message we take the
time from just before it is sent to its arrival in a live update on each member's
connection, and check that no non-member connection ever receives it.

Usage: .venv/bin/python bench/bench_groups.py [--groups 10] [--members 50] [--posters 5]
       [--messages 6] [--pace-ms 200] [--via live|http]
Ends with one JSON line: {"bench": "groups", "figures": {...}}. Target: p99 < 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from appliance.scenario.server import LocalAppliance  # noqa: E402

MESSAGE_ID = re.compile(r'"id": "(g\d+-m\d+)", "author"')


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (values in ms)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


async def prepare(server: LocalAppliance, total: int, groups: int) -> tuple[list[str], list[str], dict[str, list[int]]]:
    """Pair a secretary, create the body, pair every delegate, form the groups."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, trust_env=False) as c:
        sec = (await c.post("/api/pair", json={"code": server.setup_code})).json()["token"]
        h = {"Authorization": f"Bearer {sec}"}
        await c.post("/api/setup", json={"body": "HĐND tỉnh Thử tải", "session": "Kỳ họp thử tải"}, headers=h)
        rows = [{"name": f"Đại biểu {i:03d}", "role": "chair" if i == 1 else "delegate", "seat": i} for i in range(1, total + 1)]
        made = (await c.post("/api/participants", json={"participants": rows}, headers=h)).json()["participants"]
        ids = [p["id"] for p in made]
        gate = asyncio.Semaphore(32)

        async def pair(pid: str) -> str:
            async with gate:
                code = (await c.post("/api/pairing-codes", json={"participant_id": pid}, headers=h)).json()["code"]
                return str((await c.post("/api/pair", json={"code": code})).json()["token"])

        tokens = list(await asyncio.gather(*(pair(pid) for pid in ids)))
        formed = (await c.post("/api/groups", json={"mode": "split", "count": groups}, headers=h)).json()["groups"]
        index = {pid: i for i, pid in enumerate(ids)}
        members = {g["id"]: [index[m] for m in g["members"]] for g in formed}
    return ids, tokens, members


async def main() -> None:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--groups", type=int, default=10)
    ap.add_argument("--members", type=int, default=50)
    ap.add_argument("--posters", type=int, default=5)
    ap.add_argument("--messages", type=int, default=6)
    ap.add_argument("--pace-ms", type=float, default=200.0)
    ap.add_argument("--via", choices=("live", "http"), default="live", help="post on the live socket or by HTTP")
    args = ap.parse_args()
    total = args.groups * args.members
    with tempfile.TemporaryDirectory(prefix="phs-bench-groups-") as tmp:
        root = Path(tmp)
        (root / "logs").mkdir()
        server = LocalAppliance(root / "data", root / "keys", root / "logs")
        await server.start()
        try:
            t0 = time.perf_counter()
            ids, tokens, members = await prepare(server, total, args.groups)
            print(f"set-up: {total} delegates paired, {len(members)} groups of {args.members} in {time.perf_counter() - t0:.1f} s")
            group_of = {i: gid for gid, idx in members.items() for i in idx}
            arrivals: dict[str, dict[int, float]] = {}  # message id -> connection -> time
            leaks: list[tuple[str, int]] = []
            ready = 0
            stop = asyncio.Event()
            sockets: dict[int, Any] = {}
            waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}  # live post id -> its ack
            ws_url = server.base_url.replace("http://", "ws://") + "/api/live"

            async def listen(i: int) -> None:
                nonlocal ready
                async with connect(ws_url, additional_headers={"Authorization": f"Bearer {tokens[i]}"},
                                   proxy=None, max_size=2**24, open_timeout=30) as ws:
                    await ws.recv()  # the snapshot
                    sockets[i] = ws
                    ready += 1
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        now = time.perf_counter()
                        if '"type": "ack"' in str(raw)[:20]:
                            ack = json.loads(raw)
                            done = waiting.pop(ack["id"], None)
                            if done is not None and not done.done():
                                done.set_result(ack)
                            continue
                        for mid in MESSAGE_ID.findall(str(raw)):
                            seen = arrivals.setdefault(mid, {})
                            if i not in seen:
                                seen[i] = now
                                if not mid.startswith(group_of[i] + "-"):
                                    leaks.append((mid, i))

            listeners = [asyncio.create_task(listen(i)) for i in range(total)]
            while ready < total:
                await asyncio.sleep(0.1)
            print(f"{total} live connections open")
            sent: dict[str, float] = {}
            acks: list[float] = []
            async with httpx.AsyncClient(base_url=server.base_url, timeout=60, trust_env=False,
                                         limits=httpx.Limits(max_connections=200)) as c:

                async def send_http(gid: str, who: int, key: str, text: str) -> str:
                    r = await c.post(f"/api/groups/{gid}/messages", json={"text": text},
                                     headers={"Authorization": f"Bearer {tokens[who]}", "Idempotency-Key": key})
                    return str(r.json()["message"]["id"])

                async def send_live(gid: str, who: int, key: str, text: str) -> str:
                    waiting[key] = asyncio.get_running_loop().create_future()
                    await sockets[who].send(json.dumps({"type": "post", "id": key, "group_id": gid, "text": text}, ensure_ascii=False))
                    ack = await asyncio.wait_for(waiting[key], 30)
                    if not ack["ok"]:
                        raise RuntimeError(f"post refused: {ack}")
                    return str(ack["message_id"])

                send = send_live if args.via == "live" else send_http

                async def poster(gid: str, who: int) -> None:
                    for n in range(args.messages):
                        start = time.perf_counter()
                        mid = await send(gid, who, f"b-{who}-{n}", f"Ý kiến {who}-{n} về dự thảo")
                        acks.append((time.perf_counter() - start) * 1000)
                        sent[mid] = start
                        await asyncio.sleep(args.pace_ms / 1000)

                t1 = time.perf_counter()
                await asyncio.gather(*(poster(gid, idx[k]) for gid, idx in members.items() for k in range(args.posters)))
                posting_s = time.perf_counter() - t1
            deadline = time.perf_counter() + 10
            expected = len(sent) * args.members
            while sum(len(arrivals.get(m, {})) for m in sent) < expected and time.perf_counter() < deadline:
                await asyncio.sleep(0.1)
            stop.set()
            await asyncio.gather(*listeners, return_exceptions=True)
        finally:
            await server.stop()
    latencies = [(t - sent[mid]) * 1000 for mid, seen in arrivals.items() if mid in sent for t in seen.values()]
    delivered = len(latencies)
    figures = {
        "groups": args.groups, "members": args.members, "connections": total, "messages": len(sent),
        "messages_per_s": round(len(sent) / posting_s, 1), "deliveries": delivered, "expected_deliveries": expected,
        "missing": expected - delivered, "leaks": len(leaks),
        "delivery_p50_ms": round(pct(latencies, 0.5), 1), "delivery_p95_ms": round(pct(latencies, 0.95), 1),
        "delivery_p99_ms": round(pct(latencies, 0.99), 1), "delivery_max_ms": round(max(latencies), 1),
        "ack_p50_ms": round(pct(acks, 0.5), 1), "ack_p99_ms": round(pct(acks, 0.99), 1),
        "target_p99_ms": 200, "via": args.via,
    }
    print(f"posted via {args.via}: {len(sent)} messages ({figures['messages_per_s']}/s) to {args.groups} groups of {args.members}; "
          f"{delivered}/{expected} deliveries, {len(leaks)} to non-members")
    print(f"send -> delivery on every member's connection: p50 {figures['delivery_p50_ms']} ms  "
          f"p95 {figures['delivery_p95_ms']} ms  p99 {figures['delivery_p99_ms']} ms  max {figures['delivery_max_ms']} ms "
          f"(target p99 < 200 ms)")
    print(f"post acknowledged (durable): p50 {figures['ack_p50_ms']} ms  p99 {figures['ack_p99_ms']} ms")
    # Baseline, same run: the durable acknowledgement of the post itself. The ratio is what
    # fanning each message out to its group's live connections adds on top of it.
    figures["delivery_to_ack_p99_ratio"] = round(figures["delivery_p99_ms"] / figures["ack_p99_ms"], 2) if figures["ack_p99_ms"] else None
    print(f"p99 delivery / p99 acknowledgement (baseline): {figures['delivery_to_ack_p99_ratio']}")
    print(json.dumps({"bench": "groups", "figures": figures}))


if __name__ == "__main__":
    asyncio.run(main())
