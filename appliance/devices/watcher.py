"""Watching the machine's edge: USB sticks, serial adapters, displays coming and going.

With udev running we listen to its netlink monitor. In a container or on CI udev is
absent, and pyudev's monitor then opens but stays silent, so we check for the udev
control socket first and otherwise poll the ``by-label`` / ``by-id`` directories, which
is slower but tells the same story. Either way the caller gets ``Change`` objects on a
callback from a background thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

UDEV_CONTROL = Path("/run/udev/control")
POLL_ROOTS: Mapping[str, Path] = {
    "storage": Path("/dev/disk/by-label"),
    "serial": Path("/dev/serial/by-id"),
}
POLL_INTERVAL_S = 2.0
SUBSYSTEMS = ("block", "usb", "tty", "drm")
# Block devices that are never a stick someone plugged in.
_VIRTUAL_BLOCK = ("loop", "ram", "zram", "dm-", "nbd", "sr")


@dataclass(frozen=True)
class Device:
    """A piece of hardware as the appliance names it."""

    kind: str  # storage | serial | usb | display
    name: str  # a label, a by-id name, a kernel name
    node: str | None = None  # /dev/... when there is one
    vendor: str | None = None  # USB vendor id (hex, "0403") when udev told us
    product: str | None = None  # USB product id (hex, "6001")


@dataclass(frozen=True)
class Change:
    """Hardware appeared, went away or changed (a display connector's hot-plug)."""

    action: str  # add | remove | change
    device: Device


OnChange = Callable[[Change], None]


class Watcher(Protocol):
    """A running watcher."""

    udev: bool

    def present(self) -> list[Device]:
        """What is attached now."""
        ...

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching and wait for the thread."""


def scan(roots: Mapping[str, Path] = POLL_ROOTS) -> dict[tuple[str, str], Device]:
    """Devices visible under the symlink directories udev (or devtmpfs rules) maintain."""
    found: dict[tuple[str, str], Device] = {}
    for kind, root in roots.items():
        try:
            entries = sorted(root.iterdir())
        except OSError:  # the directory appears with the first such device
            continue
        for entry in entries:
            try:
                node = str(entry.resolve())
            except OSError:
                node = None
            found[(kind, entry.name)] = Device(kind, entry.name, node)
    return found


class _Thread:
    """A stoppable daemon thread running ``loop(stop_event)``."""

    udev = False

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._guarded, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the loop to end and wait up to ``timeout`` seconds."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _guarded(self) -> None:
        try:
            self.loop(self._stop)
        except Exception:  # a watcher dying must be visible, not silent
            log.exception("hardware watcher stopped on an error")

    def loop(self, stop: threading.Event) -> None:
        raise NotImplementedError

    def deliver(self, on_change: OnChange, change: Change) -> None:
        """Hand a change to the callback; one failing change must not end the watching."""
        try:
            on_change(change)
        except Exception:
            log.exception("hardware change handler failed", extra={"action": change.action, "kind": change.device.kind})


class PollingWatcher(_Thread):
    """Rescans the symlink directories every few seconds and reports differences."""

    def __init__(
        self, on_change: OnChange, roots: Mapping[str, Path] = POLL_ROOTS, interval: float = POLL_INTERVAL_S
    ) -> None:
        super().__init__("phs-hw-poll")
        self.on_change = on_change
        self.roots = dict(roots)
        self.interval = interval
        self._known = scan(self.roots)

    def present(self) -> list[Device]:
        """What the last scan saw."""
        return list(self._known.values())

    def poll_once(self) -> None:
        """One rescan; reports removals first so a re-plugged stick reads as remove then add."""
        now = scan(self.roots)
        for key in self._known.keys() - now.keys():
            self.deliver(self.on_change, Change("remove", self._known[key]))
        for key in sorted(now.keys() - self._known.keys()):
            self.deliver(self.on_change, Change("add", now[key]))
        self._known = now

    def loop(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            self.poll_once()


def device_from_udev(raw: Any) -> Device | None:
    """Our view of a pyudev device, or None for noise (loop devices, virtual terminals)."""
    subsystem = raw.subsystem
    sys_name = str(raw.sys_name)
    node = raw.device_node
    if subsystem == "block":
        if sys_name.startswith(_VIRTUAL_BLOCK):
            return None
        return Device("storage", raw.get("ID_FS_LABEL") or sys_name, node)
    if subsystem == "tty":
        if not raw.get("ID_BUS"):  # virtual consoles and ptys have no bus
            return None
        return Device("serial", sys_name, node, raw.get("ID_VENDOR_ID"), raw.get("ID_MODEL_ID"))
    if subsystem == "usb":
        if raw.device_type != "usb_device":
            return None
        return Device("usb", sys_name, node)
    if subsystem == "drm":
        return Device("display", sys_name, node)
    return None


class UdevWatcher(_Thread):
    """Reads the udev netlink monitor in a thread, with a short poll so stop is prompt."""

    udev = True

    def __init__(self, on_change: OnChange, monitor: Any, roots: Mapping[str, Path] = POLL_ROOTS) -> None:
        super().__init__("phs-hw-udev")
        self.on_change = on_change
        self.monitor = monitor
        self.roots = dict(roots)

    def present(self) -> list[Device]:
        """The labelled disks and serial adapters attached now."""
        return list(scan(self.roots).values())

    def loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            raw = self.monitor.poll(timeout=0.5)
            if raw is None:
                continue
            device = device_from_udev(raw)
            if device is not None and raw.action:
                self.deliver(self.on_change, Change(str(raw.action), device))


def _open_monitor() -> Any:
    import pyudev

    monitor = pyudev.Monitor.from_netlink(pyudev.Context())
    for subsystem in SUBSYSTEMS:
        monitor.filter_by(subsystem)
    monitor.start()
    return monitor


def start_watcher(
    on_change: OnChange,
    *,
    udev_control: Path = UDEV_CONTROL,
    roots: Mapping[str, Path] = POLL_ROOTS,
    interval: float = POLL_INTERVAL_S,
    open_monitor: Callable[[], Any] = _open_monitor,
) -> PollingWatcher | UdevWatcher:
    """Start the best watcher this machine allows; never fails for want of udev."""
    watcher: PollingWatcher | UdevWatcher
    if udev_control.exists():
        try:
            watcher = UdevWatcher(on_change, open_monitor(), roots)
        except Exception as exc:  # no permission for netlink, a broken udev
            log.warning("udev monitor failed to open, falling back to polling", extra={"error": str(exc)})
        else:
            watcher.start()
            log.debug("watching udev", extra={"subsystems": list(SUBSYSTEMS)})
            return watcher
    else:
        where = " and ".join(str(path) for path in roots.values())
        log.info(f"udev not available, polling {where} every {interval:g} s")
    watcher = PollingWatcher(on_change, roots, interval)
    watcher.start()
    return watcher
