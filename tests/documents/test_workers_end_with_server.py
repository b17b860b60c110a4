"""Render workers end with their server: a killed server left two ~100 MB workers per restart
(the fan-out helper counted 25 orphaned sets on a shared machine)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from appliance.scenario.server import LocalAppliance


def children(pid: int) -> set[int]:
    """Pids whose parent is ``pid`` (from /proc)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


async def test_render_workers_end_when_the_server_is_killed(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    server = LocalAppliance(tmp_path / "data", tmp_path / "keys", tmp_path / "logs")
    await server.start()
    assert server._proc is not None
    deadline = time.monotonic() + 60
    while not (workers := {w for fs in children(server._proc.pid) for w in children(fs)}):
        assert time.monotonic() < deadline, "the server started no render workers"  # warm_up starts them at start
        await asyncio.sleep(0.5)
    assert len(workers) == 2
    await server.stop(hard=True)  # SIGKILL, as a crash or a power-cut test does
    deadline = time.monotonic() + 15
    while any(alive(w) for w in workers):
        assert time.monotonic() < deadline, f"orphaned render workers: {sorted(w for w in workers if alive(w))}"
        await asyncio.sleep(0.5)
