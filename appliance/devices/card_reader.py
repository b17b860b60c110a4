"""A USB card reader at the door — đầu đọc thẻ điểm danh (optional).

Cheap QR/barcode readers present themselves as a USB keyboard and "type" the card's
code followed by Enter. Plugged into the box, such a reader would type into nothing,
so `phs devices` finds it with pyudev (an input device with a keyboard, matching the
configured ``VENDOR:PRODUCT`` ids or a name fragment: a real keyboard must never be
taken for a reader), grabs it so its keystrokes reach no console, decodes the raw
input events into card codes and posts each one to the server's local API, which checks
that delegate in (``POST /api/local/attendance/card``). ``CardReaders`` keeps one reading
task per reader found (``PHS_CARD_READERS``) and looks again when udev reports an input
device added or removed, or every few seconds without udev. Without udev (a container,
CI) nothing is found and that is logged at debug level, as for every other optional device.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import re
import struct
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from appliance.core.errors import PhsError
from appliance.devices.local_api import post_local
from appliance.devices.watcher import UDEV_CONTROL

log = logging.getLogger(__name__)

# struct input_event on 64-bit Linux: struct timeval (two longs), __u16 type, __u16 code, __s32 value.
EVENT = struct.Struct("llHHi")
EV_KEY = 1
PRESS = 1  # 0 is a release, 2 an auto-repeat
EVIOCGRAB = 0x40044590
KEY_ENTER, KEY_KPENTER = 28, 96
SHIFTS = frozenset({42, 54})
MAX_CODE = 120  # a card code is short; a stuck key must not grow a buffer forever
RESCAN_S = 5.0  # without udev nobody says a reader was plugged in: look again this often
EVENT_NODE = re.compile(r"event\d+")  # /dev/input/eventN; never mouseN or jsN
# Linux key codes -> characters (US layout, as readers emulate it); shifted variants.
KEYMAP: dict[int, tuple[str, str]] = {
    **{code: (ch, ch) for code, ch in zip(range(2, 11), "123456789", strict=True)},
    11: ("0", "0"), 12: ("-", "_"), 52: (".", ">"), 57: (" ", " "),
    **{code: (ch, ch.upper()) for code, ch in zip(range(16, 26), "qwertyuiop", strict=True)},
    **{code: (ch, ch.upper()) for code, ch in zip(range(30, 39), "asdfghjkl", strict=True)},
    **{code: (ch, ch.upper()) for code, ch in zip(range(44, 51), "zxcvbnm", strict=True)},
}


def key_events(text: str) -> bytes:
    """The events a keyboard-emulating reader sends for ``text`` + Enter (for simulators and tests)."""
    reverse = {v: (code, shifted) for code, pair in KEYMAP.items() for shifted, v in ((False, pair[0]), (True, pair[1]))}
    out = bytearray()
    for ch in text:
        code, shifted = reverse[ch]
        if shifted:
            out += EVENT.pack(0, 0, EV_KEY, 42, PRESS)
        out += EVENT.pack(0, 0, EV_KEY, code, PRESS) + EVENT.pack(0, 0, EV_KEY, code, 0)
        if shifted:
            out += EVENT.pack(0, 0, EV_KEY, 42, 0)
    out += EVENT.pack(0, 0, EV_KEY, KEY_ENTER, PRESS) + EVENT.pack(0, 0, EV_KEY, KEY_ENTER, 0)
    return bytes(out)


class KeyDecoder:
    """Raw input events in, whole card codes out (a code ends at Enter)."""

    def __init__(self) -> None:
        self._pending = b""
        self._shift = 0
        self._chars: list[str] = []

    def feed(self, data: bytes) -> list[str]:
        """Decode what the device gave; a partial event waits for the next read."""
        self._pending += data
        codes: list[str] = []
        whole = len(self._pending) - len(self._pending) % EVENT.size
        for _, _, kind, code, value in EVENT.iter_unpack(self._pending[:whole]):
            if kind != EV_KEY:
                continue
            if code in SHIFTS:
                self._shift = max(0, self._shift + (1 if value == PRESS else -1 if value == 0 else 0))
                continue
            if value != PRESS:
                continue
            if code in (KEY_ENTER, KEY_KPENTER):
                if self._chars:
                    codes.append("".join(self._chars).strip())
                self._chars = []
            elif code in KEYMAP and len(self._chars) < MAX_CODE:
                self._chars.append(KEYMAP[code][1 if self._shift else 0])
        self._pending = self._pending[whole:]
        return codes


def find_readers(match: Iterable[str], context: Any = None) -> list[str]:
    """Event device nodes of the configured readers (``"VENDOR:PRODUCT"`` ids or name fragments)."""
    wanted = [m.lower() for m in match if m]
    if not wanted:
        return []
    if context is None:
        if not UDEV_CONTROL.exists():
            log.debug("no udev: no card reader looked for")
            return []
        import pyudev

        context = pyudev.Context()
    found: list[str] = []
    for device in context.list_devices(subsystem="input", ID_INPUT_KEYBOARD="1"):
        node = device.device_node or ""
        if not EVENT_NODE.fullmatch(Path(node).name):
            continue
        ids = f"{device.get('ID_VENDOR_ID', '')}:{device.get('ID_MODEL_ID', '')}".lower()
        name = " ".join(str(device.get(k, "")) for k in ("ID_MODEL", "ID_VENDOR", "NAME")).lower()
        if any(w == ids or (":" not in w and w in name) for w in wanted):
            found.append(node)
    return sorted(found)


async def read_cards(node: str | Path, on_card: Callable[[str], Awaitable[None]], *, grab: bool = True) -> None:
    """Read one reader until it is unplugged (EOF or an error), handing every code to ``on_card``."""
    # Opened off the event loop, and non-blocking: reads wait on the loop, so cancelling the
    # task (a clean stop, an unplugged reader) leaves no thread blocked in read(2).
    fd = await asyncio.to_thread(os.open, str(node), os.O_RDONLY | os.O_NONBLOCK)
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(fd, readable.set)
    try:
        if grab:
            with contextlib.suppress(OSError):  # a FIFO in tests, or a reader someone else holds
                fcntl.ioctl(fd, EVIOCGRAB, 1)
        decoder = KeyDecoder()
        while True:
            await readable.wait()
            readable.clear()
            try:
                data = os.read(fd, EVENT.size * 64)
            except BlockingIOError:
                continue
            if not data:
                return
            for code in decoder.feed(data):
                await on_card(code)
    except OSError as exc:
        log.info("card reader gone", extra={"node": str(node), "error": type(exc).__name__})
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def card_poster(data_dir: Path) -> Callable[[str], Awaitable[None]]:
    """Post a card code to the server; a refused card is logged by code only (never the card)."""

    async def post(code: str) -> None:
        try:
            answer = await asyncio.to_thread(post_local, data_dir, "/api/local/attendance/card", {"code": code})
        except PhsError as err:
            log.warning("card refused", extra={"code": err.code})
            return
        if answer is not None:
            log.info("card checked in", extra={"seat": (answer.get("participant") or {}).get("seat")})

    return post


def parse_match(text: str) -> list[str]:
    """``PHS_CARD_READERS``: comma-separated ``VENDOR:PRODUCT`` ids or name fragments."""
    return [m.strip() for m in text.split(",") if m.strip()]


def open_input_monitor() -> Any:
    """A udev monitor of input devices, or None without udev (then ``CardReaders`` polls)."""
    if not UDEV_CONTROL.exists():
        log.debug("no udev: card readers looked for every few seconds")
        return None
    try:
        import pyudev

        monitor = pyudev.Monitor.from_netlink(pyudev.Context())
        monitor.filter_by("input")
        monitor.start()
    except Exception as exc:  # no permission for netlink, a broken udev
        log.warning("udev input monitor failed to open, polling for card readers", extra={"error": str(exc)})
        return None
    return monitor


class CardReaders:
    """The door's card readers: one reading task per configured reader that is plugged in."""

    def __init__(
        self,
        match: Iterable[str],
        on_card: Callable[[str], Awaitable[None]],
        *,
        context: Any = None,
        open_monitor: Callable[[], Any] = open_input_monitor,
        interval: float = RESCAN_S,
        grab: bool = True,
    ) -> None:
        self.match = list(match)
        self.on_card = on_card
        self.context = context
        self.open_monitor = open_monitor
        self.interval = interval
        self.grab = grab
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def reading(self) -> list[str]:
        """The nodes read now."""
        return sorted(node for node, task in self.tasks.items() if not task.done())

    async def rescan(self) -> None:
        """Start a task for every reader found and not yet read; stop those no longer found."""
        found = set(await asyncio.to_thread(find_readers, self.match, self.context))
        for node, task in list(self.tasks.items()):
            if node in found and not task.done():
                continue
            del self.tasks[node]
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            elif not task.cancelled() and (exc := task.exception()) is not None:
                log.warning("card reader failed", extra={"node": node, "error": type(exc).__name__})
        for node in sorted(found - self.tasks.keys()):
            self.tasks[node] = asyncio.create_task(read_cards(node, self.on_card, grab=self.grab))
            log.info("card reader found", extra={"node": node})

    async def run(self) -> None:
        """Scan now, then on udev's input add/remove events (or every ``interval`` s); cancel to stop."""
        monitor = self.open_monitor()
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        if monitor is not None:
            loop.add_reader(monitor.fileno(), woken.set)
        try:
            await self.rescan()
            while True:
                if monitor is None:
                    await asyncio.sleep(self.interval)
                else:
                    await woken.wait()
                    woken.clear()
                    if not self._drain(monitor):
                        continue
                await self.rescan()
        finally:
            if monitor is not None:
                loop.remove_reader(monitor.fileno())
            await self.close()

    @staticmethod
    def _drain(monitor: Any) -> bool:
        """Read every pending udev event; True when an input device was added or removed."""
        relevant = False
        while (device := monitor.poll(timeout=0)) is not None:
            relevant = relevant or device.action in ("add", "remove")
        return relevant

    async def close(self) -> None:
        """Stop every reading task."""
        tasks, self.tasks = list(self.tasks.values()), {}
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
