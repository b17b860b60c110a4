"""Button to light, grant to relay: 250 simulated units on the bus, the real server, the bridge.

Measures on the simulated line (the pseudo-terminal's master side):
- button_to_light: from the STATUS frame carrying a unit's button press leaving the unit
  to the SET frame that lights its ring green ("waiting") arriving back;
- grant_to_relay: from the chair's grant request leaving the console to the SET frame
  that closes the unit's relay.
Target: p99 < 100 ms for both. Prints a table and one JSON line {"bench": "button_to_light", "figures": {...}}.

    .venv/bin/python bench/bench_button_to_light.py [--units 250] [--rounds 40] [--baseline-units 5]

The baseline is the same measurement on a short line (5 units) in the same process: the
ratio says what 245 more units on the line cost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from appliance.devices.bridge import Bridge  # noqa: E402
from appliance.devices.phsbus import proto  # noqa: E402
from appliance.devices.phsbus.host import PhsBusSystem  # noqa: E402
from appliance.devices.phsbus.simulator import BusSimulator  # noqa: E402
from tests.web.realserver import Driver  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def wait_set(sim: BusSimulator, addr: int, after: float, want: tuple[int, int], timeout: float = 5.0) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for t, frame in list(sim.on_frame):
            if t >= after and frame[0] == addr and tuple(frame[3][:2]) == want:
                return t
        await asyncio.sleep(0.0005)
    raise TimeoutError(f"unit {addr} never got {want}")


async def main(units: int, rounds: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="phs-bench-", dir="/tmp"))
    driver = Driver(root)
    sim = BusSimulator(range(1, units + 1)).start()
    bus = PhsBusSystem(sim.path, range(1, units + 1))
    await driver.setup([f"Đại biểu {i}" for i in range(1, units + 1)])
    await bus.start()
    bridge = Bridge(bus, driver.data_dir)
    task = asyncio.create_task(bridge.run())
    while not all(u.online for u in bus.units.values()):
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    b2l: list[float] = []
    g2r: list[float] = []
    async with driver.client() as c:
        await c.post("/api/sitting/open", json={}, headers=driver.h("d1"))
        for i in range(rounds + 2):
            addr = 2 + (i * 37) % (units - 1)
            if i == 2:  # the first two rounds warm the connections up and are not counted
                b2l.clear()
                g2r.clear()
            sent_before = len(sim.events_sent)
            sim.press(addr)
            while True:
                hit = [t for t, a in sim.events_sent[sent_before:] if a == addr]
                if hit:
                    break
                await asyncio.sleep(0.0005)
            lit = await wait_set(sim, addr, hit[0], (0, proto.LED_WAITING))
            b2l.append((lit - hit[0]) * 1000)
            start = time.perf_counter()
            await c.post("/api/floor/grant", json={"to": "next"}, headers=driver.h("d1"))
            live = await wait_set(sim, addr, start, (1, proto.LED_SPEAKING))
            g2r.append((live - start) * 1000)
            await c.post("/api/floor/end", json={"to": "all"}, headers=driver.h("d1"))
            await asyncio.sleep(0.05)
    round_ms = bus.stats.round_s * 1000
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await bus.close()
    sim.stop()
    await driver.server.stop()
    return {
        "bench": "button_to_light",
        "units": units,
        "rounds": rounds,
        "baud": proto.BAUD,
        "poll_round_ms": round(round_ms, 1),
        "button_to_light_ms": {"p50": round(statistics.median(b2l), 1), "p99": round(pct(b2l, 99), 1), "max": round(max(b2l), 1)},
        "grant_to_relay_ms": {"p50": round(statistics.median(g2r), 1), "p99": round(pct(g2r, 99), 1), "max": round(max(g2r), 1)},
        "target_p99_ms": 100,
        "crc_errors": bus.stats.crc_errors,
        "timeouts": bus.stats.timeouts,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--baseline-units", type=int, default=5, help="a short line measured first, same process")
    args = parser.parse_args()
    base = asyncio.run(main(args.baseline_units, args.rounds))
    result = asyncio.run(main(args.units, args.rounds))
    result["baseline"] = {k: base[k] for k in ("units", "poll_round_ms", "button_to_light_ms", "grant_to_relay_ms")}
    for key in ("button_to_light_ms", "grant_to_relay_ms"):
        b, r = base[key], result[key]
        assert isinstance(b, dict) and isinstance(r, dict)
        result[key.replace("_ms", "_p99_ratio")] = round(r["p99"] / b["p99"], 2) if b["p99"] else None
    print(f"baseline: {args.baseline_units} units, one poll round {base['poll_round_ms']} ms")
    for key in ("button_to_light_ms", "grant_to_relay_ms"):
        v = base[key]
        assert isinstance(v, dict)
        print(f"{key:20s} p50 {v['p50']:6.1f}  p99 {v['p99']:6.1f}  max {v['max']:6.1f}")
    print(f"units {result['units']}, line {result['baud']} baud, one poll round {result['poll_round_ms']} ms")
    for key in ("button_to_light_ms", "grant_to_relay_ms"):
        v = result[key]
        assert isinstance(v, dict)
        ratio = result[key.replace("_ms", "_p99_ratio")]
        print(f"{key:20s} p50 {v['p50']:6.1f}  p99 {v['p99']:6.1f}  max {v['max']:6.1f}  (target p99 < 100 ms; "
              f"p99 ratio to {args.baseline_units} units: {ratio})")
    name = result.pop("bench")
    print(json.dumps({"bench": name, "figures": result}, ensure_ascii=False))
