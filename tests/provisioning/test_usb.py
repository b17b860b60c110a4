"""A stick plugged into the box: udev event -> read-only mount -> local API -> receipt on the stick."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.devices.local_api import local_socket_path
from appliance.devices.usb_storage import (
    ENROL_FILE,
    RECEIPTS_DIR,
    HttpHandover,
    StickHandler,
    SystemMounter,
)
from appliance.devices.watcher import Change, Device, UdevWatcher
from appliance.scenario.server import LocalAppliance
from provisioning.cli import main as provision_main
from tests.provisioning.conftest import FIXTURES


class RawDevice:
    """What pyudev hands over for a USB stick's partition (the only faked part of udev)."""

    subsystem, sys_name, device_type, action = "block", "sdx1", "partition", "add"

    def __init__(self, node: str, label: str) -> None:
        self.device_node, self._props = node, {"ID_FS_LABEL": label, "ID_BUS": "usb", "ID_FS_USAGE": "filesystem"}

    def get(self, key: str, default: Any = None) -> Any:
        return self._props.get(key, default)


class OneEventMonitor:
    def __init__(self, raw: RawDevice) -> None:
        self.events = [raw]

    def poll(self, timeout: float = 0.5) -> RawDevice | None:
        if self.events:
            return self.events.pop()
        threading.Event().wait(timeout)
        return None


class WatchingMounter(SystemMounter):
    """The real mount(8), noting the options the kernel shows for the stick while it is in use."""

    options: list[str]

    def mount(self, node: str, target: Path) -> None:
        super().mount(node, target)
        line = next(x for x in Path("/proc/mounts").read_text().splitlines() if x.split()[1] == str(target))
        self.options = line.split()[3].split(",")


def _loop_available() -> bool:
    return os.geteuid() == 0 and shutil.which("losetup") is not None and subprocess.run(["losetup", "-f"], capture_output=True, check=False).returncode == 0


@pytest.fixture
def stick(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An ext4 image labelled PHS-STICK on a loop device."""
    if not _loop_available():
        pytest.skip("loop devices unavailable here; test_write_protected_stick covers the faked Mounter")
    image = tmp_path / "stick.img"
    subprocess.run(["truncate", "-s", "48M", str(image)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-L", "PHS-STICK", str(image)], check=True)
    node = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield image, node
    finally:
        subprocess.run(["losetup", "-d", node], check=False)


def insert(handler: StickHandler, node: str) -> list[dict[str, Any]]:
    """Plug the stick in: one udev 'add' event through the real watcher thread."""
    done = threading.Event()
    seen: list[dict[str, Any]] = []

    def on_change(change: Change) -> None:
        seen.extend(handler.on_change(change) or [])
        done.set()

    watcher = UdevWatcher(on_change, OneEventMonitor(RawDevice(node, "PHS-STICK")))
    watcher.start()
    assert done.wait(300)
    watcher.stop()
    return seen


def copy_to_stick(node: str, where: Path, files: dict[str, Path]) -> dict[str, bytes]:
    where.mkdir(exist_ok=True)
    subprocess.run(["mount", node, str(where)], check=True)
    try:
        for name, src in files.items():
            shutil.copy(src, where / name)
        return {p.relative_to(where).as_posix(): p.read_bytes() for p in where.rglob("*") if p.is_file()}
    finally:
        subprocess.run(["umount", str(where)], check=True)


async def test_enrol_then_provision_from_a_loop_mounted_stick(tmp_path: Path, stick: tuple[Path, str], org_key: Path, documents: Path, sitting_file: Path) -> None:
    _, node = stick
    (tmp_path / "logs").mkdir()
    server = LocalAppliance(tmp_path / "data", tmp_path / "keys", tmp_path / "logs")
    await server.start()
    try:
        mounter = WatchingMounter()
        handler = StickHandler(HttpHandover(socket=local_socket_path(server.data_dir)), tmp_path / "media", mounter)
        # 1. An empty stick: the box writes its enrol.json.
        assert await asyncio.to_thread(insert, handler, node) == []
        assert {"ro", "nosuid", "nodev", "noexec"} <= set(mounter.options)
        on_stick = copy_to_stick(node, tmp_path / "look", {})
        enrolment = json.loads(on_stick[ENROL_FILE])
        (tmp_path / "enrol.json").write_bytes(on_stick[ENROL_FILE])
        # 2. The IT laptop builds a bundle for this box (secrets sealed to it) onto the stick.
        bundle = tmp_path / "ky-hop.phsb"
        assert provision_main(["build", "--key", str(org_key), "--config", str(sitting_file), "--participants", str(FIXTURES / "dai-bieu.csv"),
                               "--documents", str(documents), "--box", str(tmp_path / "enrol.json"), "-o", str(bundle)]) == 0
        copy_to_stick(node, tmp_path / "look", {"ky-hop.phsb": bundle})
        # 3. Plugged in again: applied through the local API, receipt written back.
        outcomes = await asyncio.to_thread(insert, handler, node)
        assert [o["ok"] for o in outcomes] == [True]
        after = copy_to_stick(node, tmp_path / "look", {})
        assert sorted(after) == sorted([ENROL_FILE, f"{RECEIPTS_DIR}/ky-hop.json", "ky-hop.phsb"])
        receipt = json.loads(after[f"{RECEIPTS_DIR}/ky-hop.json"])
        assert receipt["box"] == enrolment["fingerprint"] and receipt["counts"]["participants"] == 7
        assert not list((tmp_path / "media").glob("*/*"))  # unmounted again
    finally:
        await server.stop()


class FakeMounter:
    """A folder standing in for the stick; optionally write-protected."""

    def __init__(self, folder: Path, writable: bool) -> None:
        self.folder, self.writable, self.mounted = folder, writable, False

    def mount(self, node: str, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(self.folder)
        self.mounted = True

    def make_writable(self, target: Path) -> bool:
        return self.writable

    def unmount(self, target: Path) -> None:
        target.unlink()
        self.mounted = False


class RecordingHandover:
    def __init__(self) -> None:
        self.submitted: list[tuple[str, str]] = []

    def enrolment(self) -> dict[str, Any] | None:
        return {"kind": "phs-enrolment", "fingerprint": "AAAA BBBB"}

    def submit(self, kind: str, name: str, data: bytes) -> dict[str, Any]:
        self.submitted.append((kind, name))
        return {"ok": True}


@pytest.mark.parametrize("writable", [True, False])
def test_write_protected_stick_is_read_and_left_untouched(tmp_path: Path, writable: bool) -> None:
    folder = tmp_path / "stick"
    (folder / "PHS").mkdir(parents=True)
    (folder / "PHS" / "ky-hop.phsb").write_bytes(b"not checked here")
    (folder / "link.phsb").symlink_to("/etc/passwd")  # links are never followed
    handover = RecordingHandover()
    handler = StickHandler(handover, tmp_path / "media", FakeMounter(folder, writable))
    outcomes = handler.on_change(Change("add", Device("storage", "STICK", "/dev/sdz1")))
    assert handover.submitted == [("provisioning", "ky-hop.phsb")]
    assert outcomes == [{"ok": True, "file": "ky-hop.phsb"}]
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    expected = ["PHS/ky-hop.phsb", f"{RECEIPTS_DIR}/ky-hop.json", ENROL_FILE] if writable else ["PHS/ky-hop.phsb"]
    assert written == sorted(expected)
    assert handler.on_change(Change("add", Device("storage", "PHSKEY", "/dev/sdz2"))) is None  # the key stick is not ours
