"""The phs-bus USB adapter coming and going: attach the bus when it is plugged in, detach when pulled.

The adapter is recognised by its USB vendor and product id (the FTDI FT232R our udev rule
names, ``firmware_scripts/99-phs-bus.rules``) or by the product string "PHS Bus" in its
``/dev/serial/by-id`` name. udev hands us the ids with the event; the polling fallback
only sees by-id names, so it reads the ids from sysfs, walking up from the tty to the
USB device that carries ``idVendor`` and ``idProduct``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from appliance.devices.bridge import Bridge
from appliance.devices.phsbus import proto
from appliance.devices.phsbus.host import PhsBusSystem
from appliance.devices.phsbus.line import ADAPTER_IDS, VENDOR_PRODUCT, find_adapter
from appliance.devices.watcher import Change, Device

log = logging.getLogger(__name__)

SYS_ROOT = Path("/sys")
ADAPTERS = frozenset({VENDOR_PRODUCT})


def usb_ids(node: str | None, sys_root: Path = SYS_ROOT) -> tuple[str, str] | None:
    """(vendor, product) of the USB device behind a tty node, read from sysfs."""
    if not node:
        return None
    name = Path(node).resolve().name if Path(node).is_symlink() else Path(node).name
    try:
        here = (sys_root / "class" / "tty" / name / "device").resolve(strict=True)
    except OSError:
        return None
    for folder in (here, *here.parents):
        if folder == sys_root or folder == folder.parent:
            break
        try:
            vendor = (folder / "idVendor").read_text(encoding="ascii").strip()
            product = (folder / "idProduct").read_text(encoding="ascii").strip()
        except OSError:
            continue
        return vendor.lower(), product.lower()
    return None


def is_bus_adapter(device: Device, sys_root: Path = SYS_ROOT) -> bool:
    """Whether a serial device is our RS-485 adapter."""
    if device.kind != "serial":
        return False
    if any(wanted in device.name for wanted in ADAPTER_IDS):
        return True
    if device.vendor and device.product:
        return (device.vendor.lower(), device.product.lower()) in ADAPTERS
    return usb_ids(device.node, sys_root) in ADAPTERS


class BusAttachment:
    """Owns the phs-bus system and its bridge while an adapter is plugged in."""

    def __init__(
        self,
        data_dir: Path,
        addresses: Iterable[int] = range(1, proto.MAX_UNITS + 1),
        *,
        fixed: str = "",
        sys_root: Path = SYS_ROOT,
        make_system: Callable[[str, list[int]], PhsBusSystem] = lambda path, addrs: PhsBusSystem(path, addrs),
    ) -> None:
        self.data_dir = data_dir
        self.addresses = list(addresses)
        self.fixed = fixed
        self.sys_root = sys_root
        self.make_system = make_system
        self.system: PhsBusSystem | None = None
        self.path: str | None = None
        self.bridge: Bridge | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Attach to a fixed device, or to an adapter already plugged in."""
        path = self.fixed or (str(found) if (found := find_adapter()) else "")
        if path:
            await self.attach(path)
        else:
            log.info("no phs-bus adapter plugged in; waiting for one")

    async def on_change(self, change: Change) -> None:
        """A serial device came or went: attach or detach when it is the adapter."""
        device = change.device
        if device.kind != "serial" or self.fixed:
            return
        if change.action == "add" and self.system is None and is_bus_adapter(device, self.sys_root):
            await self.attach(device.node or str(Path("/dev/serial/by-id") / device.name))
        elif change.action == "remove" and self.system is not None and self._same(device):
            log.warning("phs-bus adapter removed", extra={"device": device.name})
            await self.detach()

    def _same(self, device: Device) -> bool:
        ours = {self.path, str(Path(self.path or "").resolve())}
        return bool({device.node, str(Path("/dev/serial/by-id") / device.name)} & ours)

    async def attach(self, path: str) -> None:
        """Open the line, start polling and bridge the units to the server."""
        system = self.make_system(path, self.addresses)
        try:
            await system.start()
        except OSError as exc:
            log.warning("phs-bus adapter could not be opened", extra={"error": str(exc)})
            return
        self.system, self.path = system, path
        self.bridge = Bridge(system, self.data_dir)
        self._task = asyncio.create_task(self.bridge.run())
        log.info("phs-bus adapter attached", extra={"device": Path(path).name, "units": len(self.addresses)})

    async def detach(self) -> None:
        """Stop the bridge and close the line (the units' heartbeat closes their microphones)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.system is not None:
            await self.system.close()
        self.system = self.path = self.bridge = self._task = None

    def status(self) -> list[dict[str, object]]:
        """Units for the technician screen (none while no adapter is plugged in)."""
        return self.system.status() if self.system is not None else []
