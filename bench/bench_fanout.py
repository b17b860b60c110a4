"""Benchmark: one live event fanned out to 1,000 connected devices.

A real ``phs serve`` on a loopback port; 900 delegates (delegate 1 chairs) and 100 hall
displays and guests paired through the API, each holding its own live WebSocket. The
chair then gives the floor to one delegate after another at a steady rate (each grant
changes only the small ``floor`` section, each is followed by its end) and every
connection notes when the update naming that delegate arrives. Measured:

- send -> receive of each update on every connection: from just before the chair's
  ``POST /api/floor/grant`` (so the journal fsync is inside the figure) to the reader
  seeing it (p50, p99, max), displays and tablets apart too;
- the server's resident memory after set-up, with 500 and with 1,000 live connections.

Beside it, in the same run: a bare broadcast server in its own process, written with the
same WebSocket library the server runs (uvicorn's ``websockets-sansio`` protocol is the
``websockets`` package's), the same 1,000 clients and the same messages (the updates PHS
sent, replayed): a trigger message on one socket, ``broadcast()`` to everyone. PHS sends
messages under 1 KB uncompressed (appliance/web/live_wire.py), so the bare server sends
them uncompressed too: it negotiates no permessage-deflate (with it, ``broadcast()``
compresses every message for every socket). Both servers hold their 1,000 clients at
once and their events alternate (PHS grant, the bare copy of that update, PHS end, the
bare copy again, ``0.25 / rate`` s apart), so a load from elsewhere on the machine falls
on both alike. The bare p99 is the floor; the ratios of p99 and of server CPU are printed.
Targets: p99 < 100 ms; p99 <= 2 x the bare server's; RSS with 500 tablets < 300 MB.

Usage: .venv/bin/python bench/bench_fanout.py [--tablets 900] [--observers 100] [--events 100] [--rate 1]
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


class Phs:
    """The real server with every device connected, and the chair's client that makes the events."""

    def __init__(self, args: argparse.Namespace) -> None:
        root = Path(tempfile.mkdtemp(prefix="phs-bench-fanout-"))
        (root / "logs").mkdir()
        self.args = args
        self.server = LocalAppliance(root / "data", root / "keys", root / "logs")
        # Idle pooled connections are dropped before the server's 5 s keep-alive ends, so a
        # request never goes out on a socket the server is closing (an httpx.ReadError).
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100, keepalive_expiry=2.0)
        self.client = httpx.AsyncClient(timeout=60, limits=limits, trust_env=False)
        self.sockets: list[ClientConnection] = []
        self.rss: dict[str, float] = {}

    async def start(self) -> None:
        """Pair everybody, then connect the tablets (RSS at 500) and the rest (RSS at all)."""
        await self.server.start()
        assert self.server._proc is not None
        self.pid = self.server._proc.pid
        c = self.client
        c.base_url = httpx.URL(self.server.base_url)
        t0 = time.perf_counter()
        tokens, self.delegates, chair, self.kinds = await setup(c, self.server, self.args.tablets, self.args.observers)
        self.chair = {"Authorization": f"Bearer {chair}"}
        self.setup_s = time.perf_counter() - t0
        self.readers = Readers(r'"speaking": \[\{"participant_id": "([^"]+)"', self.kinds)
        url = self.server.base_url.replace("http://", "ws://") + "/api/live"
        headers = [{"Authorization": f"Bearer {t}"} for t in tokens]
        # Tablets first, so the figure at 500 is the "500 connected tablets".
        await asyncio.sleep(1.0)
        self.rss["no_connections"] = rss_mb(self.pid)
        half = min(500, len(headers))
        t0 = time.perf_counter()
        self.sockets = await open_all(url, headers[:half])
        await asyncio.sleep(2.0)
        self.rss[f"{half}_tablets"] = rss_mb(self.pid)
        self.sockets += await open_all(url, headers[half:])
        self.connect_s = time.perf_counter() - t0
        await asyncio.sleep(2.0)
        self.rss[f"{len(self.sockets)}_connections"] = rss_mb(self.pid)

    async def grant(self, k: int) -> str:
        """Give the floor to the k-th speaker (the measured event); returns its update as received."""
        speaker = self.delegates[1 + k]
        self.readers.start(speaker)  # each grant names another delegate: its update says which
        r = await self.client.post("/api/floor/grant", json={"to": speaker}, headers=self.chair)
        assert r.status_code == 200, r.text
        for _ in range(500):  # the update the bare server replays: the first copy a reader saw
            if self.readers.seen[speaker]:
                return self.readers.captured[-1]
            await asyncio.sleep(0.01)
        raise RuntimeError(f"no connection received the grant to {speaker}")

    async def end(self) -> None:
        """Free the floor again (not measured)."""
        await self.client.post("/api/floor/end", json={}, headers=self.chair)

    async def stop(self) -> None:
        """Close every socket, the client and the server."""
        self.rss["after_events"] = rss_mb(self.pid)
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        await self.client.aclose()
        await self.server.stop()


BARE_SERVER = """
import asyncio, sys
from websockets.asyncio.server import broadcast, serve

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
    # No permessage-deflate: PHS sends these short updates uncompressed, one frame for all.
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=2**16, ping_interval=None) as server:
        print(next(iter(server.sockets)).getsockname()[1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


class Bare:
    """The bare broadcast server in its own process, the same number of clients, a trigger socket."""

    def __init__(self, kinds: list[str]) -> None:
        self.readers = Readers(r'^\{"bare": "(\d+)"', kinds)
        self.sockets: list[ClientConnection] = []

    async def start(self, connections: int) -> None:
        """Start it and connect everybody."""
        self.proc = subprocess.Popen([sys.executable, "-c", BARE_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        assert self.proc.stdout is not None
        url = f"ws://127.0.0.1:{int(self.proc.stdout.readline())}"
        self.sockets = await open_all(url, [{}] * connections)
        await asyncio.sleep(2.0)
        self.rss = rss_mb(self.pid)
        self.trigger = await connect(url + "/trigger", proxy=None, max_size=2**24)
        await self.trigger.recv()

    async def send(self, k: int, message: str) -> None:
        """Broadcast PHS's k-th update, tagged at the front (12 bytes more) so a reader knows which."""
        self.readers.start(f"{k:06d}")
        await self.trigger.send("go " + message.replace("{", f'{{"bare": "{k:06d}", ', 1))

    async def stop(self) -> None:
        """Close the sockets and let the server end."""
        await asyncio.gather(*(ws.close() for ws in [*self.sockets, self.trigger]), return_exceptions=True)
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


def figures(readers: Readers, connections: int, cpu: float, events_s: float) -> dict[str, Any]:
    """Deliveries, CPU and latency of one server's share of the run."""
    every = readers.latencies["tablet"] + readers.latencies["display"]
    return {
        "connections": connections,
        "deliveries": readers.deliveries,
        "expected": connections * len(readers.seen),
        "server_cpu_share": round(cpu / events_s, 2),
        "server_cpu_ms_per_fanout": round(cpu / (2 * len(readers.seen)) * 1000, 1),
        "latency": summary(every),
        "displays": summary(readers.latencies["display"]),
        "tablets": summary(readers.latencies["tablet"]),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Both servers up with all their clients; their events alternate, so both see the same load."""
    load_start = os.getloadavg()[0]
    phs = Phs(args)
    await phs.start()
    bare = Bare(phs.kinds)
    await bare.start(len(phs.sockets))
    tasks = [asyncio.create_task(r.read(n, ws)) for r, socks in ((phs.readers, phs.sockets), (bare.readers, bare.sockets))
             for n, ws in enumerate(socks)]
    gap = 0.25 / args.rate  # between any two events: PHS grant, bare copy, PHS end, bare copy
    events = min(args.events, len(phs.delegates) - 1)
    cpu0, t_events = (cpu_s(phs.pid), cpu_s(bare.pid)), time.perf_counter()
    for k in range(events):
        message = await phs.grant(k)
        await asyncio.sleep(gap)
        await bare.send(k, message)
        await asyncio.sleep(gap)
        await phs.end()
        await asyncio.sleep(gap)
        await bare.trigger.send("go " + message)  # in the place of the floor-ended update
        await asyncio.sleep(gap)
    await phs.readers.settle(len(phs.sockets))
    await bare.readers.settle(len(bare.sockets))
    cpu = (cpu_s(phs.pid) - cpu0[0], cpu_s(bare.pid) - cpu0[1])
    events_s = time.perf_counter() - t_events
    for task in tasks:
        task.cancel()
    await phs.stop()
    await bare.stop()
    ours = figures(phs.readers, len(phs.sockets), cpu[0], events_s)
    captured = phs.readers.captured
    ours.update(setup_s=round(phs.setup_s, 1), connect_s=round(phs.connect_s, 1), rss_mb=phs.rss,
                message_bytes=round(sum(map(len, captured)) / max(1, len(captured))))
    theirs = figures(bare.readers, len(bare.sockets), cpu[1], events_s)
    theirs["rss_mb"] = bare.rss
    p99, bare_p99 = ours["latency"]["p99_ms"], theirs["latency"]["p99_ms"]
    return {
        "tablets": args.tablets,
        "observers": args.observers,
        "events": events,
        "rate_per_s": args.rate,
        "load_avg_1m_start": round(load_start, 2),
        "load_avg_1m_end": round(os.getloadavg()[0], 2),
        "phs": ours,
        "bare": theirs,
        "p99_over_bare_p99": round(p99 / max(bare_p99, 0.1), 2) if p99 is not None and bare_p99 is not None else None,
        "cpu_over_bare_cpu": round(cpu[0] / max(cpu[1], 1e-3), 2),
        "cpus": os.cpu_count(),
        "targets": {"p99_ms": 100, "p99_over_bare_p99": 2.0, "rss_500_tablets_mb": 300},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=900, help="delegates' tablets (the first is the chair's)")
    parser.add_argument("--observers", type=int, default=100, help="hall displays and guests")
    parser.add_argument("--events", type=int, default=100, help="floor grants, each measured")
    parser.add_argument("--rate", type=float, default=1.0, help="grants a second to each server (each followed by its end)")
    args = parser.parse_args()
    # The 1,000 clients share one process and the same 2 cores as both servers: on uvloop
    # (uvicorn[standard] installs it) they drain each fan-out faster, for both sides alike,
    # so less of the client's own queueing is counted as delivery time.
    try:
        import uvloop

        f = uvloop.run(run(args))
        f["client_loop"] = "uvloop"
    except ImportError:
        f = asyncio.run(run(args))
        f["client_loop"] = "asyncio"
    ours, bare = f["phs"], f["bare"]
    print(f"{ours['connections']} live connections ({f['tablets']} tablets, {f['observers']} displays/guests), "
          f"set-up {ours['setup_s']} s, connect {ours['connect_s']} s; {f['events']} floor grants at {f['rate_per_s']}/s, "
          f"update ~{ours['message_bytes']} B; load {f['load_avg_1m_start']} -> {f['load_avg_1m_end']}")
    for name, d in (("phs serve", ours), ("bare broadcast", bare)):
        lat = d["latency"]
        print(f"{name:15} send -> receive p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  max {lat['max_ms']} ms  "
              f"({d['deliveries']}/{d['expected']} deliveries; server CPU {d['server_cpu_ms_per_fanout']} ms a fan-out)")
    print(f"phs displays p99 {ours['displays']['p99_ms']} ms, tablets p99 {ours['tablets']['p99_ms']} ms")
    print(f"ratio p99 phs / bare: {f['p99_over_bare_p99']} (target <= 2); p99 target < 100 ms; "
          f"server CPU phs / bare: {f['cpu_over_bare_cpu']}")
    print(f"server RSS {ours['rss_mb']} MB (target < 300 MB with 500 tablets); bare server RSS {bare['rss_mb']} MB")
    print(json.dumps({"bench": "fanout", "figures": f}, ensure_ascii=False))


if __name__ == "__main__":
    main()
