"""`phs devices` as a real process: it starts, says it is ready, and stops on a signal."""

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

from appliance.devices import program

ROOT = Path(__file__).resolve().parents[2]


def start(module: str, data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", module, "--data", str(data_dir), *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def read_until(proc: subprocess.Popen[str], msg: str, timeout: float = 10.0) -> list[dict[str, object]]:
    """JSON log lines up to and including the first whose msg is ``msg``."""
    assert proc.stderr is not None
    lines: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(json.loads(line))
        if lines[-1]["msg"] == msg:
            return lines
    raise AssertionError(f"{msg!r} never logged; got {lines}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_devices_process_reports_ready_and_stops_within_two_seconds(tmp_path: Path, sig: signal.Signals) -> None:
    proc = start("appliance.devices.program", tmp_path, "--seats", "5")
    try:
        lines = read_until(proc, "devices ready")
        ready = lines[-1]
        assert ready["level"] == "info"
        assert ready["units"] == 5
        assert ready["conference"] == "simulated"
        assert isinstance(ready["storage"], int)
        proc.send_signal(sig)
        started = time.monotonic()
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - started < 2.0
        assert read_until(proc, "devices stopped")
    finally:
        proc.kill()
        proc.wait()


async def test_run_logs_conference_events_without_keypad_choices(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG, logger="appliance.devices")
    systems: list[program.SimulatedConferenceSystem] = []
    real = program.SimulatedConferenceSystem

    def capture(seats: object) -> program.SimulatedConferenceSystem:
        systems.append(real(seats))  # type: ignore[arg-type]
        return systems[-1]

    monkeypatch.setattr(program, "SimulatedConferenceSystem", capture)
    stop = asyncio.Event()
    task = asyncio.create_task(program.run(tmp_path, seats=2, stop=stop))
    while not systems:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    systems[0].press("2")
    systems[0].vote("1", "3")
    await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(task, 3) == 0
    events = [r for r in caplog.records if r.getMessage() == "conference event"]
    assert [(r.levelname, r.__dict__["event"], r.__dict__.get("seat")) for r in events] == [
        ("INFO", "ButtonPress", "2"),
        ("DEBUG", "KeypadVote", None),
    ]
