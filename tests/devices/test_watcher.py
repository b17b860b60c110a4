"""The hardware watcher. Only the edge is faked: the udev monitor and the /dev directories."""

from __future__ import annotations

import logging
import queue
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.devices.watcher import (
    Change,
    Device,
    PollingWatcher,
    UdevWatcher,
    device_from_udev,
    start_watcher,
)


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "sdb1").touch()
    return {"storage": tmp_path / "by-label", "serial": tmp_path / "by-id"}


def plug(roots: dict[str, Path], kind: str, name: str, target: Path) -> None:
    roots[kind].mkdir(exist_ok=True)
    (roots[kind] / name).symlink_to(target)


def test_polling_reports_a_stick_plugged_and_pulled(roots: dict[str, Path], tmp_path: Path) -> None:
    changes: list[Change] = []
    watcher = PollingWatcher(changes.append, roots, interval=60)
    assert watcher.present() == []
    plug(roots, "storage", "PHS-KEY", tmp_path / "dev" / "sdb1")
    watcher.poll_once()
    stick = Device("storage", "PHS-KEY", str(tmp_path / "dev" / "sdb1"))
    assert changes == [Change("add", stick)]
    assert watcher.present() == [stick]
    (roots["storage"] / "PHS-KEY").unlink()
    watcher.poll_once()
    assert changes == [Change("add", stick), Change("remove", stick)]


def test_devices_present_at_start_are_not_reported_as_new(roots: dict[str, Path], tmp_path: Path) -> None:
    plug(roots, "serial", "usb-FTDI_FT232R-if00-port0", tmp_path / "dev" / "sdb1")
    changes: list[Change] = []
    watcher = PollingWatcher(changes.append, roots, interval=60)
    watcher.poll_once()
    assert changes == []
    assert [d.kind for d in watcher.present()] == ["serial"]


def test_without_udev_it_says_so_and_polls(
    roots: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: queue.Queue[Change] = queue.Queue()
    caplog.set_level(logging.INFO, logger="appliance.devices.watcher")
    watcher = start_watcher(seen.put, udev_control=tmp_path / "no-udev", roots=roots, interval=0.05)
    try:
        assert isinstance(watcher, PollingWatcher)
        assert watcher.udev is False
        assert [r.getMessage() for r in caplog.records] == [
            f"udev not available, polling {roots['storage']} and {roots['serial']} every 0.05 s"
        ]
        assert caplog.records[0].levelno == logging.INFO
        plug(roots, "storage", "HOP-01", tmp_path / "dev" / "sdb1")
        assert seen.get(timeout=2).device.name == "HOP-01"
    finally:
        started = time.monotonic()
        watcher.stop()
        assert time.monotonic() - started < 2.0


def test_default_message_names_the_real_directories(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="appliance.devices.watcher")
    watcher = start_watcher(lambda change: None, udev_control=tmp_path / "no-udev")
    watcher.stop()
    assert caplog.records[0].getMessage() == (
        "udev not available, polling /dev/disk/by-label and /dev/serial/by-id every 2 s"
    )


def test_a_udev_monitor_that_cannot_open_falls_back_to_polling(roots: dict[str, Path], tmp_path: Path) -> None:
    control = tmp_path / "control"
    control.touch()

    def broken() -> Any:
        raise PermissionError("netlink")

    watcher = start_watcher(lambda change: None, udev_control=control, roots=roots, open_monitor=broken)
    watcher.stop()
    assert isinstance(watcher, PollingWatcher)


def udev_device(subsystem: str, sys_name: str, action: str = "add", **props: str) -> SimpleNamespace:
    return SimpleNamespace(
        subsystem=subsystem,
        sys_name=sys_name,
        device_node=f"/dev/{sys_name}",
        device_type=props.pop("DEVTYPE", None),
        action=action,
        get=props.get,
    )


class FakeMonitor:
    """Stands in for pyudev.Monitor: poll() hands out queued devices."""

    def __init__(self) -> None:
        self.queue: queue.Queue[SimpleNamespace] = queue.Queue()

    def poll(self, timeout: float) -> SimpleNamespace | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None


def test_with_udev_events_come_from_the_monitor(roots: dict[str, Path], tmp_path: Path) -> None:
    control = tmp_path / "control"
    control.touch()
    monitor = FakeMonitor()
    seen: queue.Queue[Change] = queue.Queue()
    watcher = start_watcher(seen.put, udev_control=control, roots=roots, open_monitor=lambda: monitor)
    try:
        assert isinstance(watcher, UdevWatcher)
        assert watcher.udev is True
        monitor.queue.put(udev_device("block", "loop0"))  # noise, dropped
        monitor.queue.put(udev_device("block", "sdb1", ID_FS_LABEL="PHS-KEY"))
        monitor.queue.put(udev_device("drm", "card0-HDMI-A-1", action="change"))
        assert seen.get(timeout=2) == Change("add", Device("storage", "PHS-KEY", "/dev/sdb1"))
        assert seen.get(timeout=2) == Change("change", Device("display", "card0-HDMI-A-1", "/dev/card0-HDMI-A-1"))
    finally:
        started = time.monotonic()
        watcher.stop()
        assert time.monotonic() - started < 2.0


def test_udev_noise_is_filtered() -> None:
    assert device_from_udev(udev_device("block", "zram0")) is None
    assert device_from_udev(udev_device("tty", "tty3")) is None
    assert device_from_udev(udev_device("tty", "ttyUSB0", ID_BUS="usb")) == Device("serial", "ttyUSB0", "/dev/ttyUSB0")
    assert device_from_udev(udev_device("usb", "1-1:1.0", DEVTYPE="usb_interface")) is None
    assert device_from_udev(udev_device("usb", "1-1", DEVTYPE="usb_device")) == Device("usb", "1-1", "/dev/1-1")
    assert device_from_udev(udev_device("net", "eth0")) is None


def test_a_failing_handler_is_logged_and_watching_goes_on(
    roots: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Change] = []

    def flaky(change: Change) -> None:
        seen.append(change)
        if len(seen) == 1:
            raise RuntimeError("boom")

    watcher = PollingWatcher(flaky, roots, interval=60)
    plug(roots, "storage", "A", tmp_path / "dev" / "sdb1")
    watcher.poll_once()
    plug(roots, "storage", "B", tmp_path / "dev" / "sdb1")
    watcher.poll_once()
    assert [change.device.name for change in seen] == ["A", "B"]
    assert [r.getMessage() for r in caplog.records] == ["hardware change handler failed"]
