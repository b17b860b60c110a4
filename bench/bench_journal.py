"""Benchmark: durable journal appends against the disk's raw fsync and a minimal group commit.

Measures, in one run on one disk:
- raw fsync latency (write 100 bytes + fsync, in a loop);
- acknowledged appends/sec and p50/p99 latency of ``Journal.append`` with N concurrent writers;
- the same for a minimal group-commit loop (one asyncio writer, plain write+fsync, no sealing);
- recovery start-up with a large journal, with and without a snapshot.

Usage: .venv/bin/python bench/bench_journal.py [--writers 1,10,100,500] [--records 2000]
       [--recovery-records 100000] [--snapshot-gap 1000] [--dir PATH]
Ends with one JSON line: {"bench": "journal", "figures": {...}}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from appliance.store.journal import Journal  # noqa: E402
from appliance.store.snapshots import Snapshots  # noqa: E402


def record(i: int) -> dict[str, Any]:
    """A record shaped like a real event (~200 bytes of JSON)."""
    return {
        "type": "ballot_cast",
        "poll": "p-2025-11-04-03",
        "participant": f"d{i % 500:03d}",
        "client_id": f"c-{i:08d}-{i * 7919 % 100000:05d}",
        "at": {"wall": 1780000000.123 + i, "mono": 1000.5 + i},
        "seq": i,
    }


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile in milliseconds."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[index] * 1000


def raw_fsync(directory: Path, count: int) -> dict[str, float]:
    """The floor: one small write + fsync at a time on this disk."""
    path = directory / "raw.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    lat = []
    payload = b"x" * 100
    try:
        for _ in range(count):
            t = time.perf_counter()
            os.write(fd, payload)
            os.fsync(fd)
            lat.append(time.perf_counter() - t)
    finally:
        os.close(fd)
        path.unlink()
    return {"p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "ops_s": count / sum(lat)}


class MinimalGroupCommit:
    """The simplest correct group commit: one writer, plain write+fsync, no sealing or chain."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self.wake = asyncio.Event()
        self.closing = False
        self.task = asyncio.create_task(self.writer())

    def _write(self, data: bytes) -> None:
        os.write(self.fd, data)
        os.fsync(self.fd)

    async def writer(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            if not self.pending:
                if self.closing:
                    return
                continue
            batch, self.pending = self.pending, []
            await asyncio.to_thread(self._write, b"".join(d for d, _ in batch))
            for _, fut in batch:
                fut.set_result(None)

    async def append(self, rec: dict[str, Any]) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        data = json.dumps(rec, separators=(",", ":")).encode()
        self.pending.append((len(data).to_bytes(4, "big") + data, fut))
        self.wake.set()
        await fut

    async def close(self) -> None:
        self.closing = True
        self.wake.set()
        await self.task
        os.close(self.fd)


async def drive(append: Any, writers: int, per_writer: int) -> dict[str, float]:
    """Run ``writers`` tasks each appending ``per_writer`` records back to back."""
    lat: list[float] = []

    async def one(w: int) -> None:
        for k in range(per_writer):
            t = time.perf_counter()
            await append(record(w * per_writer + k))
            lat.append(time.perf_counter() - t)

    start = time.perf_counter()
    await asyncio.gather(*(one(w) for w in range(writers)))
    elapsed = time.perf_counter() - start
    return {
        "appends_s": len(lat) / elapsed,
        "p50_ms": pct(lat, 0.5),
        "p99_ms": pct(lat, 0.99),
        "records": len(lat),
    }


async def bench_ours(directory: Path, writers: int, per_writer: int) -> dict[str, float]:
    """Journal.append with sealing, hash chain and signed checkpoints every 1000 records."""
    journal = await Journal.open(
        directory, secrets.token_bytes(32), identity=Ed25519PrivateKey.generate()
    )
    try:
        return await drive(journal.append, writers, per_writer)
    finally:
        await journal.close()


async def bench_minimal(directory: Path, writers: int, per_writer: int) -> dict[str, float]:
    """The reference loop on the same disk with the same load."""
    directory.mkdir(parents=True)
    minimal = MinimalGroupCommit(directory / "minimal.log")
    try:
        return await drive(minimal.append, writers, per_writer)
    finally:
        await minimal.close()


async def bench_recovery(directory: Path, count: int, gap: int) -> dict[str, float]:
    """Start-up time: open + replay everything, versus snapshot + open(verify_from) + replay the rest."""
    key = secrets.token_bytes(32)
    journal = await Journal.open(directory / "journal", key, identity=Ed25519PrivateKey.generate())
    chunk = 5000
    for base in range(0, count, chunk):
        futures = [journal.submit(record(i))[1] for i in range(base, min(count, base + chunk))]
        await asyncio.gather(*futures)
    await journal.close()
    snap_at = max(0, count - gap)
    state = {
        "participants": [
            {"id": f"d{i:03d}", "name": f"Đại biểu {i}", "seat": i} for i in range(500)
        ]
    }
    Snapshots(directory / "snapshots", key).save(snap_at, state)

    def apply_all(j: Journal, after: int) -> int:
        applied = 0
        for _, rec in j.records(after):
            applied += rec["seq"] >= 0
        return applied

    t = time.perf_counter()
    full = await Journal.open(directory / "journal", key)
    replayed_full = apply_all(full, 0)
    await full.close()
    without = time.perf_counter() - t

    t = time.perf_counter()
    loaded = Snapshots(directory / "snapshots", key).load()
    assert loaded is not None
    position, _ = loaded
    tail = await Journal.open(directory / "journal", key, verify_from=position)
    replayed_tail = apply_all(tail, position)
    await tail.close()
    with_snapshot = time.perf_counter() - t
    assert (replayed_full, replayed_tail) == (count, count - snap_at)
    size = sum(p.stat().st_size for p in (directory / "journal").iterdir())
    return {
        "records": count,
        "journal_mb": round(size / 2**20, 1),
        "without_snapshot_s": without,
        "with_snapshot_s": with_snapshot,
        "replayed_after_snapshot": count - snap_at,
    }


async def main() -> None:
    """Run everything and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", default="1,10,100,500")
    parser.add_argument(
        "--records",
        type=int,
        default=10000,
        help="appends per writer count (at least 3 per writer)",
    )
    parser.add_argument("--raw", type=int, default=300, help="raw fsync iterations")
    parser.add_argument("--recovery-records", type=int, default=100_000)
    parser.add_argument("--snapshot-gap", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix=".bench-journal-", dir=args.dir))
    figures: dict[str, Any] = {}
    try:
        figures["raw_fsync"] = raw_fsync(base, args.raw)
        rows = []
        for writers in [int(w) for w in args.writers.split(",")]:
            per_writer = max(3, args.records // writers)
            ours = await bench_ours(base / f"ours-{writers}", writers, per_writer)
            minimal = await bench_minimal(base / f"min-{writers}", writers, per_writer)
            rows.append((writers, ours, minimal))
            figures[f"w{writers}"] = {"ours": ours, "minimal": minimal}
        figures["recovery"] = await bench_recovery(
            base / "recovery", args.recovery_records, args.snapshot_gap
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)

    raw = figures["raw_fsync"]
    print(
        f"raw fsync (100 B write + fsync): p50 {raw['p50_ms']:.2f} ms  p99 {raw['p99_ms']:.2f} ms  {raw['ops_s']:.0f}/s"
    )
    print()
    print(
        f"{'writers':>7} | {'ours/s':>9} {'p50 ms':>8} {'p99 ms':>8} | {'min/s':>9} {'p50 ms':>8} {'p99 ms':>8} | p99 ratio"
    )
    for writers, ours, minimal in rows:
        ratio = ours["p99_ms"] / minimal["p99_ms"]
        print(
            f"{writers:>7} | {ours['appends_s']:>9.0f} {ours['p50_ms']:>8.2f} {ours['p99_ms']:>8.2f} | "
            f"{minimal['appends_s']:>9.0f} {minimal['p50_ms']:>8.2f} {minimal['p99_ms']:>8.2f} | {ratio:.2f}"
        )
    top = rows[-1]
    figures["p99_ratio_at_max_writers"] = top[1]["p99_ms"] / top[2]["p99_ms"]
    figures["max_writers"] = top[0]
    rec = figures["recovery"]
    print()
    print(
        f"p99(ours)/p99(minimal) at {top[0]} writers: {figures['p99_ratio_at_max_writers']:.2f} (target <= 3)"
    )
    print(
        f"recovery, {rec['records']} records ({rec['journal_mb']} MiB): without snapshot "
        f"{rec['without_snapshot_s']:.2f} s; with snapshot (replay {rec['replayed_after_snapshot']}) "
        f"{rec['with_snapshot_s']:.2f} s (target < 2 s)"
    )
    rounded = json.loads(json.dumps(figures), parse_float=lambda s: round(float(s), 3))
    print(json.dumps({"bench": "journal", "figures": rounded}))


if __name__ == "__main__":
    asyncio.run(main())
