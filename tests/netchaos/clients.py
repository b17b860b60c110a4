"""Tablets on a bad network: run as its own process (in its own network namespace when the
test can make one). Reads a plan as JSON on stdin, prints one JSON report on stdout.

Each tablet keeps its live channel open (reconnecting with ``resume`` after a drop, the
way web_ui/live.js does), casts its ballot with one Idempotency-Key it keeps for every
retry, and at the end reports what it was acknowledged and the state its live channel
converged to. Every wait has a deadline: nothing here can hang the test.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from typing import Any

import httpx
import websockets

ATTEMPT_S = 2.0  # one try of a request; a tablet retries after this


async def live(url: str, token: str, view: dict[str, Any], stop: asyncio.Event, stats: dict[str, int]) -> None:
    """Keep a live view in ``view``; reconnect and resume until ``stop``."""
    while not stop.is_set():
        try:
            async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                                          open_timeout=ATTEMPT_S, ping_interval=None, close_timeout=1) as ws:
                if view:
                    await ws.send(json.dumps({"type": "resume", "position": view["position"]}))
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    message = json.loads(raw)
                    if message.get("type") == "snapshot":
                        view.clear()
                        view.update(message["state"])
                        view["position"] = message["position"]
                    elif message.get("type") == "update":
                        view.update(message["changed"])
                        view["position"] = max(int(view.get("position", 0)), int(message["position"]))
        except (OSError, websockets.WebSocketException, TimeoutError):
            stats["reconnects"] += 1
            await asyncio.sleep(0.2 + random.random() * 0.3)


async def vote(base: str, token: str, poll: str, answer: str, key: str, deadline: float, stats: dict[str, int]) -> dict[str, Any]:
    """Cast one ballot, retrying with the same key until acknowledged or the deadline."""
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        try:
            async with httpx.AsyncClient(base_url=base, timeout=ATTEMPT_S, trust_env=False) as client:
                r = await client.post(f"/api/polls/{poll}/ballots", json={"answer": answer},
                                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key})
            if r.status_code == 200:
                return {"acked": True, "tries": tries, "position": r.json().get("position")}
            if r.status_code < 500 and r.status_code != 429:
                return {"acked": False, "tries": tries, "code": r.json().get("code")}
        except httpx.HTTPError:
            stats["retries"] += 1
        await asyncio.sleep(0.1 + random.random() * 0.2)
    return {"acked": False, "tries": tries, "code": "deadline"}


async def tablet(plan: dict[str, Any], n: int, token: str) -> dict[str, Any]:
    stats = {"reconnects": 0, "retries": 0}
    view: dict[str, Any] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(live(plan["ws"], token, view, stop, stats))
    await asyncio.sleep(random.random() * plan["spread_s"])
    deadline = time.monotonic() + plan["deadline_s"]
    ballot = await vote(plan["base"], token, plan["poll"], plan["answers"][n % len(plan["answers"])], f"tablet-{n}-ballot-1", deadline, stats)
    # Converge: wait (bounded) until the live view reaches the position the box reports.
    target = None
    while time.monotonic() < deadline:
        try:
            async with httpx.AsyncClient(base_url=plan["base"], timeout=ATTEMPT_S, trust_env=False) as client:
                target = (await client.get("/api/state", headers={"Authorization": f"Bearer {token}"})).json()
        except httpx.HTTPError:
            await asyncio.sleep(0.2)
            continue
        if target["position"] >= plan["final_position"] and view.get("position") == target["position"]:
            break
        await asyncio.sleep(0.3)
    await asyncio.sleep(0.3)  # coalesced updates (100 ms) land
    stop.set()
    await asyncio.wait_for(watcher, 5)
    return {"n": n, "ballot": ballot, "stats": stats, "view": view, "http": target}


async def main() -> None:
    plan = json.load(sys.stdin)
    random.seed(plan.get("seed", 0))
    results = await asyncio.gather(*(tablet(plan, n, t) for n, t in enumerate(plan["tokens"])))
    json.dump({"tablets": results}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    asyncio.run(main())
