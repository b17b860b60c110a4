"""Benchmark: crash torture on the real server — many rounds of a vote cut by SIGKILL.

Each round (see tests/web/torture.py): 30 delegates vote at once, the server is killed at
a random moment (0-250 ms in), restarted, unacknowledged ballots are resent with their
Idempotency-Key, the poll closes; acknowledged ballots must all be there, no delegate
counted twice, the chain must verify (API, and ``phs journal verify`` every few rounds).

Usage: .venv/bin/python bench/bench_crash_torture.py [--rounds 50] [--delegates 30] [--cli-every 5]
Ends with one JSON line: {"bench": "crash_torture", "figures": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.web.torture import Tally, prepare, round_  # noqa: E402


async def main(rounds: int, delegates: int, cli_every: int) -> int:
    tally = Tally()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="phs-torture-") as tmp:
        d = await prepare(Path(tmp), delegates)
        ready = time.monotonic()
        for n in range(rounds):
            await round_(d, n, delegates, tally, cli_every=cli_every)
        await d.server.stop()
    total = time.monotonic() - started
    per_round = (total - (ready - started)) / max(1, rounds)
    print(f"rounds              {tally.rounds}")
    print(f"delegates           {delegates}")
    print(f"acknowledged        {tally.acknowledged}   (ballots answered before the kill)")
    print(f"in flight           {tally.in_flight}   (cut off by the kill, resent with the same key)")
    print(f"lost                {tally.lost}")
    print(f"duplicates          {tally.duplicates}")
    print(f"chain faults        {tally.chain_faults}")
    print(f"kill after (ms)     median {statistics.median(tally.kill_after_ms):.0f}, max {max(tally.kill_after_ms):.0f}")
    print(f"time                {total:.1f} s ({per_round:.2f} s a round, restart included)")
    print(json.dumps({"bench": "crash_torture", "figures": {
        "rounds": tally.rounds, "delegates": delegates, "acknowledged": tally.acknowledged,
        "in_flight": tally.in_flight, "lost": tally.lost, "duplicates": tally.duplicates,
        "chain_faults": tally.chain_faults, "seconds": round(total, 1), "seconds_per_round": round(per_round, 2)}}))
    return 0 if (tally.lost, tally.duplicates, tally.chain_faults) == (0, 0, 0) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--delegates", type=int, default=30)
    parser.add_argument("--cli-every", type=int, default=5, help="run phs journal verify every N rounds")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.rounds, args.delegates, args.cli_every)))
