"""`phs sync`: waits, watches the uplink, stops promptly."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.sync import program

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sync_process_waits_and_stops_within_two_seconds(tmp_path: Path, sig: signal.Signals) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.sync.program", "--data", str(tmp_path)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        first = json.loads(proc.stderr.readline())
        assert first["msg"] == "sync waiting for archives"
        assert first["data_dir"] == str(tmp_path)
        second = json.loads(proc.stderr.readline())
        assert second["msg"] in {"uplink up", "uplink down"}
        proc.send_signal(sig)
        started = time.monotonic()
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - started < 2.0
        assert json.loads(proc.stderr.readline())["msg"] == "sync stopped"
    finally:
        proc.kill()
        proc.wait()


async def test_uplink_changes_are_logged_once_each(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="appliance.sync")
    readings = iter([False, False, True, True, False])
    seen = asyncio.Event()
    stop = asyncio.Event()

    def uplink() -> bool:
        try:
            return next(readings)
        except StopIteration:
            seen.set()
            return False

    task = asyncio.create_task(program.run(tmp_path, stop=stop, interval=0.001, uplink=uplink))
    await asyncio.wait_for(seen.wait(), 3)
    stop.set()
    assert await asyncio.wait_for(task, 3) == 0
    assert [r.getMessage() for r in caplog.records] == [
        "sync waiting for archives",
        "uplink down",
        "uplink up",
        "uplink down",
        "sync stopped",
    ]


async def test_a_failing_uplink_check_is_logged_and_counts_as_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="appliance.sync")
    stop = asyncio.Event()

    def broken() -> bool:
        stop.set()
        raise OSError("netlink")

    assert await asyncio.wait_for(program.run(tmp_path, stop=stop, uplink=broken), 3) == 0
    assert [r.getMessage() for r in caplog.records][1:3] == ["uplink check failed", "uplink down"]
