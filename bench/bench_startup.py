"""Benchmark: the appliance's real start-up (``Appliance.open_store``) on a journal of
``--records`` records written by real commands, with and without a snapshot.

A sitting of 30 delegates is opened and the delegates check in and out, concurrently, until
the journal holds ``--records`` records (every record is a real command judged by
``meeting`` and sealed by the journal). Then the appliance stops (which snapshots) and is
started again in the same process, timed: restore the snapshot, open the journal (verifying
from the snapshot on), replay the rest, start the render workers. Then the snapshots are
removed and it is timed again: everything is verified and replayed. Same data, same run.

Usage: .venv/bin/python bench/bench_startup.py [--records 100000] [--tail 1000] [--dir PATH]
Ends with one JSON line: {"bench": "startup", "figures": {...}}. Target: < 2 s with a snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.core.settings import Settings  # noqa: E402
from appliance.meeting.decide import Command  # noqa: E402
from appliance.meeting.roles import Actor  # noqa: E402
from appliance.web.service import SYSTEM, Appliance  # noqa: E402

DELEGATES = 30


def settings(root: Path) -> Settings:
    # No periodic snapshot while writing: the only snapshot is the one stop() takes, so the
    # "with snapshot" start replays the ``--tail`` records written after it.
    return Settings(data_dir=root / "data", keys_dir=root / "keys", snapshot_every=10**9)


async def fill(root: Path, records: int, tail: int) -> int:
    """Write ``records`` journal records by real commands; the last ``tail`` after the snapshot."""
    app = Appliance(settings(root))
    await app.start()
    people = [{"name": f"Đại biểu Số {i + 1}", "role": "chair" if i == 0 else "delegate", "seat": i + 1} for i in range(DELEGATES)]
    await app.execute(SYSTEM, Command("setup", {"body": "HĐND phường Thử", "session": "Kỳ họp", "sittings": ["Phiên 1"]}))
    await app.execute(SYSTEM, Command("add_participants", {"participants": people, "ids": [f"p{i}" for i in range(DELEGATES)]}))
    await app.execute(SYSTEM, Command("open_sitting", {}))
    actors = [Actor.for_role(f"p{i}", "chair" if i == 0 else "delegate") for i in range(DELEGATES)]

    async def churn(until: int) -> None:
        async def one(actor: Actor) -> None:
            command = "check_in"
            while app.state.position < until:
                await app.execute(actor, Command(command, {}))
                command = "check_out" if command == "check_in" else "check_in"

        await asyncio.gather(*(one(a) for a in actors))

    await churn(records - tail)
    await app.stop()  # snapshots at the head
    app = Appliance(settings(root))
    await app.start()
    await churn(records)
    head = app.state.position
    app.snapshots.save = lambda *a, **k: None  # type: ignore[method-assign]  # keep the tail unsnapshotted
    await app.stop()
    return head


async def timed_start(root: Path) -> tuple[float, int]:
    app = Appliance(settings(root))
    t = time.perf_counter()
    await app.start()
    elapsed = time.perf_counter() - t
    head = app.state.position
    app.snapshots.save = lambda *a, **k: None  # type: ignore[method-assign]  # leave the data as it was
    await app.stop()
    return elapsed, head


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--tail", type=int, default=1000, help="records written after the snapshot")
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary directory)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="phs-bench-startup-", dir=args.dir))
    try:
        t = time.perf_counter()
        head = await fill(root, args.records, args.tail)
        fill_s = time.perf_counter() - t
        journal_mb = sum(p.stat().st_size for p in (root / "data" / "journal").glob("*")) / 2**20
        with_snapshot, seen = await timed_start(root)
        assert seen == head, (seen, head)
        shutil.rmtree(root / "data" / "snapshots")
        without_snapshot, seen = await timed_start(root)
        assert seen == head, (seen, head)
        figures: dict[str, Any] = {
            "records": head, "journal_mb": round(journal_mb, 1), "fill_s": round(fill_s, 1),
            "records_per_s_written": round(head / fill_s), "replayed_after_snapshot": args.tail,
            "with_snapshot_s": round(with_snapshot, 2), "without_snapshot_s": round(without_snapshot, 2),
            "target_with_snapshot_s": 2.0,
        }
        print(f"journal: {head} records ({figures['journal_mb']} MiB) written by real commands in {figures['fill_s']} s "
              f"({figures['records_per_s_written']}/s, 30 delegates checking in and out)")
        print(f"start-up with snapshot (replay {args.tail}): {figures['with_snapshot_s']} s (target < 2 s)")
        print(f"start-up without snapshot (verify and replay all): {figures['without_snapshot_s']} s")
        print(f"ratio without/with: {round(without_snapshot / with_snapshot, 1)}")
        print(json.dumps({"bench": "startup", "figures": figures}))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
