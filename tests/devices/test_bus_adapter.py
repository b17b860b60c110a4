"""The phs-bus adapter found by its USB vendor/product id and followed as it is plugged
and pulled: ids from udev or from a simulated sysfs, and the bus attached to a real
pseudo-terminal line of simulated units, then detached."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from appliance.devices.bus_adapter import BusAttachment, is_bus_adapter, usb_ids
from appliance.devices.phsbus.simulator import BusSimulator
from appliance.devices.watcher import Change, Device, PollingWatcher, start_watcher


def sysfs(root: Path, tty: str, vendor: str, product: str) -> None:
    """/sys/class/tty/<tty>/device -> .../usb1/1-1/1-1:1.0/<tty>, with ids on 1-1."""
    usb = root / "devices" / "pci0000:00" / "usb1" / "1-1"
    port = usb / "1-1:1.0" / tty
    port.mkdir(parents=True)
    (usb / "idVendor").write_text(vendor + "\n")
    (usb / "idProduct").write_text(product + "\n")
    link = root / "class" / "tty" / tty
    link.mkdir(parents=True)
    (link / "device").symlink_to(port)


def test_ids_come_from_sysfs_when_udev_is_silent(tmp_path: Path) -> None:
    sysfs(tmp_path, "ttyUSB0", "0403", "6001")
    assert usb_ids("/dev/ttyUSB0", tmp_path) == ("0403", "6001")
    assert usb_ids("/dev/ttyS0", tmp_path) is None
    assert is_bus_adapter(Device("serial", "usb-FTDI_x-if00-port0", "/dev/ttyUSB0"), tmp_path)


def test_adapter_recognised_by_ids_or_product_string_only(tmp_path: Path) -> None:
    sysfs(tmp_path, "ttyUSB1", "067b", "2303")  # a Prolific cable: not ours
    assert is_bus_adapter(Device("serial", "ttyUSB0", "/dev/ttyUSB0", "0403", "6001"), tmp_path)
    assert not is_bus_adapter(Device("serial", "ttyUSB1", "/dev/ttyUSB1", "067b", "2303"), tmp_path)
    assert not is_bus_adapter(Device("serial", "usb-Prolific-if00", "/dev/ttyUSB1"), tmp_path)
    assert is_bus_adapter(Device("serial", "usb-PHS_Bus_A1-if00-port0", "/dev/ttyUSB7"), tmp_path)
    assert not is_bus_adapter(Device("storage", "PHS_Bus", "/dev/sda1"), tmp_path)


def test_without_udev_control_the_watcher_polls_serial_by_id_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    by_id = tmp_path / "serial" / "by-id"
    caplog.set_level("INFO", logger="appliance.devices.watcher")
    seen: list[Change] = []
    watcher = start_watcher(seen.append, udev_control=tmp_path / "no-control", roots={"serial": by_id}, interval=60)
    try:
        assert isinstance(watcher, PollingWatcher) and watcher.udev is False
        assert f"udev not available, polling {by_id} every 60 s" in caplog.messages
        by_id.mkdir(parents=True)
        (by_id / "usb-PHS_Bus_A1-if00-port0").symlink_to("/dev/null")
        watcher.poll_once()
        assert [(c.action, c.device.kind, c.device.name) for c in seen] == [("add", "serial", "usb-PHS_Bus_A1-if00-port0")]
    finally:
        watcher.stop()


async def until(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_hotplug_attaches_the_bus_and_a_pull_detaches_it(tmp_path: Path) -> None:
    sim = BusSimulator(range(1, 4)).start()
    attachment = BusAttachment(tmp_path, range(1, 4), sys_root=tmp_path / "sys")
    try:
        plugged = Device("serial", "ttyUSB0", sim.path, "0403", "6001")
        # Someone else's serial cable changes nothing.
        await attachment.on_change(Change("add", Device("serial", "ttyUSB1", "/dev/ttyUSB1", "067b", "2303")))
        assert attachment.system is None
        await attachment.on_change(Change("add", plugged))
        assert attachment.system is not None and attachment.path == sim.path
        system = attachment.system
        await until(lambda: all(u.online for u in system.units.values()))
        assert [(u["seat"], u["online"]) for u in attachment.status()] == [("1", True), ("2", True), ("3", True)]
        # The other cable is pulled: still attached. Ours is pulled: detached, nothing left running.
        await attachment.on_change(Change("remove", Device("serial", "ttyUSB1", "/dev/ttyUSB1")))
        assert attachment.system is system
        await attachment.on_change(Change("remove", Device("serial", "ttyUSB0", sim.path)))
        assert attachment.system is None and attachment.status() == []
        assert system._thread is not None and not system._thread.is_alive()
        # Plugged in again: attached again.
        await attachment.on_change(Change("add", plugged))
        assert attachment.system is not None and attachment.system is not system
    finally:
        await attachment.detach()
        sim.stop()


class UdevTty:
    """What pyudev hands over for a USB serial adapter being plugged in."""

    subsystem = "tty"
    sys_name = "ttyUSB0"
    device_node = "/dev/ttyUSB0"
    device_type = None
    action = "add"

    def get(self, key: str) -> str | None:
        return {"ID_BUS": "usb", "ID_VENDOR_ID": "0403", "ID_MODEL_ID": "6001"}.get(key)


def test_udev_events_carry_the_vendor_and_product_id() -> None:
    from appliance.devices.watcher import device_from_udev

    device = device_from_udev(UdevTty())
    assert device == Device("serial", "ttyUSB0", "/dev/ttyUSB0", "0403", "6001")
    assert device is not None and is_bus_adapter(device, Path("/nonexistent"))


def test_noise_that_looks_like_a_long_frame_does_not_swallow_the_real_one_behind_it() -> None:
    """Found by the long fuzz run: a stray SYNC and a length of 30 made the decoder wait for
    bytes that never came, losing the unit's short reply that followed."""
    from appliance.devices.phsbus.proto import STATUS, Decoder, encode

    reply = encode(12, STATUS, 3, bytes([0, 1, 1, 1]))
    decoder = Decoder()
    assert decoder.feed(bytes([0x7E, 0x05, 0x81, 0x00, 30]) + reply) == [(12, STATUS, 3, bytes([0, 1, 1, 1]))]
    assert (decoder.bad, bytes(decoder.buf)) == (1, b"")
    # A frame still arriving is waited for, as before.
    assert decoder.feed(reply[:6]) == [] and decoder.feed(reply[6:]) == [(12, STATUS, 3, bytes([0, 1, 1, 1]))]
