"""The serial line: a USB-RS-485 adapter (or a pseudo-terminal in tests) in raw mode.

No pyserial: termios does everything the bus needs (raw 8N1, a standard or, on Linux,
a 1 Mbaud rate). Finding the adapter: our udev rule (firmware_scripts/99-phs-bus.rules)
names it /dev/phs-bus; without udev we look in /dev/serial/by-id for its id string.
"""

from __future__ import annotations

import logging
import os
import termios
import tty
from pathlib import Path

log = logging.getLogger(__name__)

UDEV_LINK = Path("/dev/phs-bus")
BY_ID = Path("/dev/serial/by-id")
ADAPTER_IDS = ("PHS_Bus", "FTDI_FT232R_USB_UART")  # our adapter's product string, then the stock FT232R
VENDOR_PRODUCT = ("0403", "6001")  # FTDI FT232R, as in the udev rule


def find_adapter(by_id: Path = BY_ID, link: Path = UDEV_LINK) -> Path | None:
    """The bus adapter's device path, or None when none is plugged in."""
    if link.exists():
        return link
    try:
        names = sorted(p.name for p in by_id.iterdir())
    except OSError:
        return None
    for wanted in ADAPTER_IDS:
        for name in names:
            if wanted in name:
                return by_id / name
    return None


def open_line(path: str | Path, baud: int) -> int:
    """Open the device raw, 8N1, at ``baud``; returns a non-blocking file descriptor."""
    fd = os.open(str(path), os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        speed = getattr(termios, f"B{baud}", None)
        if speed is not None:
            attrs[4] = attrs[5] = speed
        else:
            log.warning("line rate not supported by termios, left as is", extra={"baud": baud})
        attrs[2] &= ~(termios.PARENB | termios.CSTOPB)
        attrs[2] |= termios.CS8 | termios.CLOCAL | termios.CREAD
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
    except termios.error:
        log.debug("not a terminal; using the file as it is", extra={"path": str(path)})
    return fd
