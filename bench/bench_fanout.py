"""Benchmark: one live event fanned out to 1,000 connected devices.

A real ``phs serve`` on a loopback port; 900 delegates (delegate 1 chairs) and 100 hall
displays and guests paired through the API, each holding its own live WebSocket. The
chair then gives the floor to one delegate after another at a steady rate (each grant
changes only the small ``floor`` section) and every connection notes when the update
naming that delegate arrives. Measured:

- send -> receive of each update on every connection: from just before the chair's
  ``POST /api/floor/grant`` (so the journal fsync is inside the figure) to the reader
  seeing it (p50, p99, max), displays and tablets apart too;
- the server's resident memory after set-up, with 500 and with 1,000 live connections.

Beside it, in the same run: a bare broadcast server in its own process, written with the
same WebSocket library the server runs (uvicorn's ``websockets-sansio`` protocol is the
``websockets`` package's; same permessage-deflate settings as uvicorn's), the same 1,000
clients and the same messages (the updates PHS sent, replayed): a trigger message on one
socket, ``broadcast()`` to everyone. Its p99 is the floor; the ratio is printed.
Targets: p99 < 100 ms; p99 <= 2 x the bare server's; RSS with 500 tablets < 300 MB.

Usage: .venv/bin/python bench/bench_fanout.py [--tablets 900] [--observers 100] [--events 100] [--rate 5]
Ends with one JSON line: {"bench": "fanout", "figures": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import websockets  # noqa: E402
from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from appliance.scenario.server import LocalAppliance  # noqa: E402

CONNECT_AT_ONCE = 50  # handshakes in flight while the devices connect


def pct(values: list[float], p: float) -> float | None:
    """The p-th percentile in milliseconds (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000, 1)


def summary(values: list[float]) -> dict[str, float | None]:
    """p50, p99 and max in milliseconds."""
    return {"p50_ms": pct(values, 50), "p99_ms": pct(values, 99), "max_ms": round(max(values) * 1000, 1) if values else None}


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Readers:
    """Every client's reader: which event each message carries, and when it arrived."""

    def __init__(self, pattern: str, kinds: list[str]) -> None:
        self.pattern = re.compile(pattern)  # its first group names the event
        self.kinds = kinds
        self.sent_at: dict[str, float] = {}  # event -> when its trigger was sent
        self.latencies: dict[str, list[float]] = {"display": [], "tablet": []}
        self.seen: dict[str, set[int]] = {}  # event -> connections that received it
        self.captured: list[str] = []  # one copy of each update, for the bare server

    def start(self, event: str) -> None:
        """The trigger of ``event`` is about to be sent."""
        self.seen[event] = set()
        self.sent_at[event] = time.perf_counter()

    async def read(self, n: int, ws: ClientConnection) -> None:
        """Read one connection until it closes."""
        try:
            async for raw in ws:
                now = time.perf_counter()
                found = self.pattern.search(raw) if isinstance(raw, str) else None
                if found is None or found.group(1) not in self.sent_at:
                    continue
                seen = self.seen[found.group(1)]
                if n in seen:
                    continue
                if not seen:
                    self.captured.append(raw)
                seen.add(n)
                self.latencies[self.kinds[n]].append(now - self.sent_at[found.group(1)])
        except (websockets.WebSocketException, OSError):
            return

    async def settle(self, connections: int, timeout: float = 30.0) -> None:
        """Wait until every connection has every event, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(len(s) < connections for s in self.seen.values()):
            await asyncio.sleep(0.1)

    @property
    def deliveries(self) -> int:
        """How many (connection, event) pairs arrived."""
        return sum(map(len, self.seen.values()))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def open_all(url: str, headers: list[dict[str, str]]) -> list[ClientConnection]:
    """Connect every device, a few handshakes at a time; read each snapshot."""
    sem = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def one(h: dict[str, str]) -> ClientConnection:
        async with sem:
            ws = await connect(url, additional_headers=h, proxy=None, max_size=2**24, open_timeout=60)
            await ws.recv()  # the snapshot (or, for the bare server, its hello)
            return ws

    return list(await asyncio.gather(*(one(h) for h in headers)))


async def setup(c: httpx.AsyncClient, server: LocalAppliance, tablets: int, observers: int) -> tuple[list[str], list[str], str, list[str]]:
    """Pair a secretary, the delegates (the first chairs) and the observers; open the sitting."""
    sec = (await c.post("/api/pair", json={"code": server.setup_code})).json()["token"]
    h = {"Authorization": f"Bearer {sec}"}
    await c.post("/api/setup", json={"body": "Bench", "session": "Kỳ họp"}, headers=h)
    rows = [{"name": f"Đại biểu {i:03d}", "role": "chair" if i == 1 else "delegate", "seat": i} for i in range(1, tablets + 1)]
    rows += [{"name": f"{'Màn hình' if i % 2 else 'Khách'} {i:03d}", "role": "display" if i % 2 else "guest"} for i in range(observers)]
    made = (await c.post("/api/participants", json={"participants": rows}, headers=h)).json()["participants"]
    tokens: dict[str, str] = {}
    sem = asyncio.Semaphore(50)

    async def pair(p: dict[str, Any]) -> None:
        async with sem:
            code = (await c.post("/api/pairing-codes", json={"participant_id": p["id"]}, headers=h)).json()["code"]
            tokens[p["id"]] = (await c.post("/api/pair", json={"code": code})).json()["token"]

    await asyncio.gather(*(pair(p) for p in made))
    delegates = [p["id"] for p in made if p["role"] in ("chair", "delegate")]
    others = [p["id"] for p in made if p["role"] not in ("chair", "delegate")]
    kinds = ["tablet"] * len(delegates) + ["display"] * len(others)
    chair = tokens[delegates[0]]
    await c.post("/api/sitting/open", json={}, headers={"Authorization": f"Bearer {chair}"})
    return [tokens[p] for p in delegates + others], delegates, chair, kinds


async def phs_run(args: argparse.Namespace) -> dict[str, Any]:
    """The real server: connect everybody, RSS at 500 and at all, then the floor grants."""
    root = Path(tempfile.mkdtemp(prefix="phs-bench-fanout-"))
    (root / "logs").mkdir()
    server = LocalAppliance(root / "data", root / "keys", root / "logs")
    await server.start()
    assert server._proc is not None
    pid = server._proc.pid
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits, trust_env=False) as c:
        t0 = time.perf_counter()
        tokens, delegates, chair, kinds = await setup(c, server, args.tablets, args.observers)
        readers = Readers(r'"speaking": \[\{"participant_id": "([^"]+)"', kinds)
        setup_s = time.perf_counter() - t0
        url = server.base_url.replace("http://", "ws://") + "/api/live"
        headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
        # Tablets first, so the figure at 500 is the "500 connected tablets".
        await asyncio.sleep(1.0)
        rss = {"no_connections": rss_mb(pid)}
        half = min(500, len(headers))
        t0 = time.perf_counter()
        sockets = await open_all(url, headers[:half])
        await asyncio.sleep(2.0)
        rss[f"{half}_tablets"] = rss_mb(pid)
        sockets += await open_all(url, headers[half:])
        connect_s = time.perf_counter() - t0
        await asyncio.sleep(2.0)
        rss[f"{len(sockets)}_connections"] = rss_mb(pid)
        tasks = [asyncio.create_task(readers.read(n, ws)) for n, ws in enumerate(sockets)]
        chair_h = {"Authorization": f"Bearer {chair}"}
        speakers = delegates[1:]
        cpu0, t_events = cpu_s(pid), time.perf_counter()
        for k in range(min(args.events, len(speakers))):
            readers.start(speakers[k])  # each grant names another delegate: its update says which
            r = await c.post("/api/floor/grant", json={"to": speakers[k]}, headers=chair_h)
            assert r.status_code == 200, r.text
            await asyncio.sleep(0.5 / args.rate)
            await c.post("/api/floor/end", json={}, headers=chair_h)  # not measured: the floor is free again
            await asyncio.sleep(0.5 / args.rate)
        await readers.settle(len(sockets))
        cpu = cpu_s(pid) - cpu0
        events_s = time.perf_counter() - t_events
        rss["after_events"] = rss_mb(pid)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    await server.stop()
    every = readers.latencies["tablet"] + readers.latencies["display"]
    return {
        "connections": len(sockets),
        "setup_s": round(setup_s, 1),
        "connect_s": round(connect_s, 1),
        "deliveries": readers.deliveries,
        "expected": len(sockets) * len(readers.seen),
        "server_cpu_share": round(cpu / events_s, 2),
        "server_cpu_ms_per_fanout": round(cpu / (2 * len(readers.seen)) * 1000, 1),
        "latency": summary(every),
        "displays": summary(readers.latencies["display"]),
        "tablets": summary(readers.latencies["tablet"]),
        "rss_mb": rss,
        "messages": readers.captured,
        "message_bytes": round(sum(map(len, readers.captured)) / max(1, len(readers.captured))),
    }


BARE_SERVER = '''
import asyncio, sys
from websockets.asyncio.server import broadcast, serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

clients = set()

async def handler(ws):
    if ws.request.path != "/trigger":  # the trigger sends; it does not receive the broadcast
        clients.add(ws)
    try:
        await ws.send("hello")
        async for message in ws:
            if message.startswith("go "):  # a trigger: everybody gets the message after "go "
                broadcast(clients, message[3:])
    finally:
        clients.discard(ws)

async def main():
    # The same permessage-deflate settings uvicorn's websockets-sansio protocol uses.
    deflate = ServerPerMessageDeflateFactory(server_max_window_bits=12, client_max_window_bits=12,
                                             compress_settings={"memLevel": 5})
    async with serve(handler, "127.0.0.1", 0, extensions=[deflate], compression=None, max_size=2**16,
                     ping_interval=None) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
'''


async def bare_run(args: argparse.Namespace, connections: int, kinds: list[str], messages: list[str]) -> dict[str, Any]:
    """The same clients and messages against a bare broadcast server in its own process."""
    proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        url = f"ws://127.0.0.1:{port}"
        sockets = await open_all(url, [{}] * connections)
        await asyncio.sleep(2.0)
        rss = rss_mb(proc.pid)
        readers = Readers(r'^\{"bare": "(\d+)"', kinds)
        tasks = [asyncio.create_task(readers.read(n, ws)) for n, ws in enumerate(sockets)]
        trigger = await connect(url + "/trigger", proxy=None, max_size=2**24)
        await trigger.recv()
        cpu0, t_events = cpu_s(proc.pid), time.perf_counter()
        for k, message in enumerate(messages):
            # PHS's own updates, each tagged at the front (12 bytes more) so a reader knows which.
            readers.start(f"{k:06d}")
            await trigger.send("go " + message.replace("{", f'{{"bare": "{k:06d}", ', 1))
            await asyncio.sleep(0.5 / args.rate)
            await trigger.send("go " + message)  # in the place of the floor-ended update
            await asyncio.sleep(0.5 / args.rate)
        await readers.settle(connections)
        cpu = cpu_s(proc.pid) - cpu0
        events_s = time.perf_counter() - t_events
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in [*sockets, trigger]), return_exceptions=True)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(10)
    every = readers.latencies["tablet"] + readers.latencies["display"]
    return {"connections": connections, "deliveries": readers.deliveries, "expected": connections * len(messages),
            "server_cpu_share": round(cpu / events_s, 2),
            "server_cpu_ms_per_fanout": round(cpu / (2 * len(messages)) * 1000, 1),
            "latency": summary(every), "rss_mb": rss}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_start = os.getloadavg()[0]
    ours = await phs_run(args)
    messages = ours.pop("messages")
    kinds = ["tablet"] * args.tablets + ["display"] * args.observers
    bare = await bare_run(args, ours["connections"], kinds, messages)
    p99, bare_p99 = ours["latency"]["p99_ms"], bare["latency"]["p99_ms"]
    return {
        "tablets": args.tablets,
        "observers": args.observers,
        "events": args.events,
        "rate_per_s": args.rate,
        "load_avg_1m_start": round(load_start, 2),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
        "phs": ours,
        "bare": bare,
        "p99_over_bare_p99": round(p99 / max(bare_p99, 0.1), 2) if p99 is not None and bare_p99 is not None else None,
        "cpus": os.cpu_count(),
        "targets": {"p99_ms": 100, "p99_over_bare_p99": 2.0, "rss_500_tablets_mb": 300},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=900, help="delegates' tablets (the first is the chair's)")
    parser.add_argument("--observers", type=int, default=100, help="hall displays and guests")
    parser.add_argument("--events", type=int, default=100, help="floor grants, each measured")
    parser.add_argument("--rate", type=float, default=2.0, help="grants a second (each followed by its end)")
    args = parser.parse_args()
    f = asyncio.run(run(args))
    ours, bare = f["phs"], f["bare"]
    print(f"{ours['connections']} live connections ({f['tablets']} tablets, {f['observers']} displays/guests), "
          f"set-up {ours['setup_s']} s, connect {ours['connect_s']} s; {f['events']} floor grants at {f['rate_per_s']}/s, "
          f"update ~{ours['message_bytes']} B; load {f['load_avg_1m_start']} -> {f['load_avg_1m_end']}")
    for name, d in (("phs serve", ours), ("bare broadcast", bare)):
        lat = d["latency"]
        print(f"{name:15} send -> receive p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms  "
              f"({d['deliveries']}/{d['expected']} deliveries; server CPU {d['server_cpu_ms_per_fanout']} ms a fan-out)")
    print(f"phs displays p99 {ours['displays']['p99_ms']} ms, tablets p99 {ours['tablets']['p99_ms']} ms")
    print(f"ratio p99 phs / bare: {f['p99_over_bare_p99']} (target <= 2); p99 target < 100 ms")
    print(f"server RSS {ours['rss_mb']} MB (target < 300 MB with 500 tablets); bare server RSS {bare['rss_mb']} MB")
    print(json.dumps({"bench": "fanout", "figures": f}, ensure_ascii=False))


if __name__ == "__main__":
    main()
