"""Display outputs: connectors read from a simulated /sys/class/drm, one real kiosk
process per connected output, restarted on a new view, stopped when unplugged — and the
whole path through `phs devices` and the real server's technician routes."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from appliance.core.settings import Settings
from appliance.devices import program
from appliance.devices.displays import KioskSupervisor, ProcessKiosks, scan_outputs, view_url
from appliance.devices.watcher import Change, Device
from tests.web.realserver import Driver

# A stand-in browser: writes the URL it was given to its profile, then waits to be stopped.
FAKE_BROWSER = (
    f"{sys.executable} -c \"import sys, time, pathlib; "
    f"pathlib.Path(sys.argv[1], 'url').write_text(sys.argv[2]); time.sleep(120)\" {{profile}} {{url}}"
)


def drm(root: Path, **connectors: str) -> None:
    """Write a simulated /sys/class/drm: card0-<connector>/status for each."""
    (root / "card0").mkdir(parents=True, exist_ok=True)
    (root / "renderD128").mkdir(exist_ok=True)
    (root / "version").write_text("drm 1.1.0\n")
    for name, status in connectors.items():
        folder = root / f"card0-{name.replace('_', '-')}"
        folder.mkdir(exist_ok=True)
        (folder / "status").write_text(status + "\n")


def wait_for(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def shown(profiles: Path, connector: str) -> str:
    path = profiles / connector / "url"
    return path.read_text() if path.exists() else ""


def test_scan_reads_each_connector_status(tmp_path: Path) -> None:
    drm(tmp_path, HDMI_A_1="connected", HDMI_A_2="disconnected", eDP_1="connected")
    assert scan_outputs(tmp_path) == {"HDMI-A-1": True, "HDMI-A-2": False, "eDP-1": True}
    assert scan_outputs(tmp_path / "absent") == {}


def test_one_kiosk_per_connected_output_follows_plugs_and_views(tmp_path: Path) -> None:
    root, profiles = tmp_path / "drm", tmp_path / "kiosk"
    drm(root, HDMI_A_1="connected", HDMI_A_2="disconnected")
    kiosks = ProcessKiosks(FAKE_BROWSER, profiles)
    sup = KioskSupervisor(kiosks, "http://127.0.0.1:8080", scan=lambda: scan_outputs(root))
    try:
        sup.rescan()
        wait_for(lambda: shown(profiles, "HDMI-A-1"))
        assert shown(profiles, "HDMI-A-1") == "http://127.0.0.1:8080/ui/display.html?view=hall&output=HDMI-A-1"
        assert sorted(kiosks.procs) == ["HDMI-A-1"]
        # A second screen is plugged in: its own browser, the hall view.
        drm(root, HDMI_A_2="connected")
        sup.rescan()
        assert sorted(kiosks.procs) == ["HDMI-A-1", "HDMI-A-2"]
        # The technician assigns the speaker view to the second: only that browser restarts.
        first = kiosks.procs["HDMI-A-1"].pid
        sup.assign({"HDMI-A-2": "speaker", "HDMI-A-9": "nonsense"})
        wait_for(lambda: "view=speaker" in shown(profiles, "HDMI-A-2"))
        assert kiosks.procs["HDMI-A-1"].pid == first
        # Unplugged: its browser stops, the other keeps running.
        old = kiosks.procs["HDMI-A-1"]
        drm(root, HDMI_A_1="disconnected")
        sup.rescan()
        assert old.poll() is not None and sorted(kiosks.procs) == ["HDMI-A-2"]
        assert sup.status() == [
            {"connector": "HDMI-A-1", "connected": False, "view": "hall", "running": False},
            {"connector": "HDMI-A-2", "connected": True, "view": "speaker", "running": True},
        ]
    finally:
        sup.stop()
    assert kiosks.procs == {}


def test_a_crashed_kiosk_is_restarted_but_not_in_a_tight_loop(tmp_path: Path) -> None:
    root = tmp_path / "drm"
    drm(root, HDMI_A_1="connected")
    now = [100.0]
    kiosks = ProcessKiosks(f"{sys.executable} -c pass", tmp_path / "kiosk")
    sup = KioskSupervisor(kiosks, "http://box", scan=lambda: scan_outputs(root), clock=lambda: now[0])
    sup.rescan()
    kiosks.procs["HDMI-A-1"].wait()
    first = kiosks.procs["HDMI-A-1"]
    now[0] += 1.0
    sup.rescan()
    assert kiosks.procs["HDMI-A-1"] is first  # died at once: wait before the next try
    now[0] += 3.0
    sup.rescan()
    assert kiosks.procs["HDMI-A-1"] is not first
    sup.stop()


def test_without_a_kiosk_command_outputs_are_only_reported(tmp_path: Path) -> None:
    drm(tmp_path, HDMI_A_1="connected")
    sup = KioskSupervisor(None, "http://box", scan=lambda: scan_outputs(tmp_path))
    sup.rescan()
    assert sup.status() == [{"connector": "HDMI-A-1", "connected": True, "view": "hall", "running": False}]


def test_the_url_keeps_the_connector_in_one_word() -> None:
    kiosks = ProcessKiosks("browser --app={url} --profile={profile} --name={connector}", Path("/p"))
    url = view_url("http://10.42.0.1:8080/", "seating", "DP-1")
    assert kiosks.argv("DP-1", url) == [
        "browser", "--app=http://10.42.0.1:8080/ui/display.html?view=seating&output=DP-1", "--profile=/p/DP-1", "--name=DP-1",
    ]


class SilentWatcher:
    """No udev (the program then rescans displays on its own), nothing attached."""

    udev = False

    def __init__(self, on_change: Any) -> None:
        self.on_change = on_change

    def present(self) -> list[Device]:
        return []

    def stop(self, timeout: float = 2.0) -> None:
        pass


async def test_devices_program_runs_kiosks_with_the_views_the_technician_assigns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(program, "REPORT_S", 0.1)
    driver = Driver(tmp_path / "box")
    root, profiles = tmp_path / "drm", tmp_path / "box" / "data" / "run" / "kiosk"
    drm(root, HDMI_A_1="connected", HDMI_A_2="disconnected")
    watchers: list[SilentWatcher] = []

    def watch(on_change: Any) -> SilentWatcher:
        watchers.append(SilentWatcher(on_change))
        return watchers[-1]

    stop = asyncio.Event()
    task: asyncio.Task[int] | None = None
    try:
        await driver.setup(["Chủ tọa", "Đại biểu Hai", "Đại biểu Ba"])
        async with driver.client() as c:
            r = await c.post("/api/participants", json={"participants": [{"name": "Kỹ thuật viên", "role": "technician"}]},
                             headers=driver.h("secretary"))
            tech_id = r.json()["participants"][-1]["id"]
            code = (await c.post("/api/pairing-codes", json={"participant_id": tech_id}, headers=driver.h("secretary"))).json()["code"]
            tech = {"Authorization": "Bearer " + (await c.post("/api/pair", json={"code": code})).json()["token"]}
            settings = Settings(data_dir=driver.data_dir, port=driver.server.port, conference="simulated",
                                kiosk_command=FAKE_BROWSER)
            task = asyncio.create_task(program.run(driver.data_dir, seats=3, stop=stop, settings=settings,
                                                   scan_displays=lambda: scan_outputs(root), watch=watch))

            async def technician() -> dict[str, Any]:
                return (await c.get("/api/devices", headers=tech)).json()  # type: ignore[no-any-return]

            deadline = time.monotonic() + 10
            while not (await technician())["displays"]:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            view = await technician()
            assert [(d["connector"], d["connected"], d["running"]) for d in view["displays"]] == [
                ("HDMI-A-1", True, True), ("HDMI-A-2", False, False)]
            assert [(u["seat"], u["online"], u["indicator"]) for u in view["units"]] == [
                ("1", True, "off"), ("2", True, "off"), ("3", True, "off")]
            assert view["source"] == "simulated"
            base = f"http://127.0.0.1:{driver.server.port}/ui/display.html"
            assert shown(profiles, "HDMI-A-1") == f"{base}?view=hall&output=HDMI-A-1"

            # A cable goes into the second output; the technician puts the speaker view on it.
            drm(root, HDMI_A_2="connected")
            r = await c.post("/api/devices/displays", json={"connector": "HDMI-A-2", "view": "speaker"}, headers=tech)
            assert r.status_code == 200
            deadline = time.monotonic() + 10
            while shown(profiles, "HDMI-A-2") != f"{base}?view=speaker&output=HDMI-A-2":
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            # A delegate may not assign views.
            r = await c.post("/api/devices/displays", json={"connector": "HDMI-A-2", "view": "hall"}, headers=driver.h("d2"))
            assert r.status_code == 403 and r.json()["code"] == "forbidden"
            # udev's drm event (here delivered by hand) makes the program read the connectors at once.
            drm(root, HDMI_A_1="disconnected")
            watchers[0].on_change(Change("change", Device("display", "card0")))
            deadline = time.monotonic() + 10
            while [(d["connector"], d["running"]) for d in (await technician())["displays"]] != [
                    ("HDMI-A-1", False), ("HDMI-A-2", True)]:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        if task is not None:
            assert await asyncio.wait_for(task, 10) == 0
        await driver.server.stop()
