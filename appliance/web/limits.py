"""Limits that keep one curious or broken device from taking the box from everybody else.

The hall's Wi-Fi is shared with whatever anyone brings: a device that opens hundreds of
live connections, floods its channel with messages, or stops reading is bounded here,
each with a refusal that carries a catalogue code. Loopback is trusted (the box's own
services, the rehearsal runner and the benches connect from it), everyone else is not.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# A tablet holds one live connection; a reload or a wake from sleep briefly makes two.
PER_DEVICE = 4
# One address is one device on the hall's Wi-Fi, except a display PC showing several
# screens or a NAT in front of the observers' room.
PER_ADDRESS = 32
# A device sends a ping every few seconds and a resume after a reconnect; 10 a second
# with a burst of 30 is far above any honest client.
RATE_PER_S = 10.0
BURST = 30.0
# A device that keeps sending past its allowance after this many refusals is cut off.
STRIKES = 100
# A send that does not finish in this time means the device stopped reading (asleep with
# the socket half open, or hostile): its connection is closed, it resyncs on return.
SEND_TIMEOUT_S = 20.0

TRUSTED = frozenset({"127.0.0.1", "::1", "unix", "testclient"})


@dataclass
class Bucket:
    """A token bucket: ``RATE_PER_S`` messages a second on average, ``BURST`` at once."""

    rate: float = RATE_PER_S
    burst: float = BURST
    tokens: float = BURST
    stamp: float = field(default_factory=time.monotonic)
    strikes: int = 0

    def allow(self, now: float | None = None) -> bool:
        """Take one token if there is one; count a strike when there is not."""
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.strikes += 1
        return False

    @property
    def exhausted(self) -> bool:
        """True once the device ignored ``STRIKES`` refusals: close it."""
        return self.strikes >= STRIKES


class ConnectionLimits:
    """Counts live connections per device and per address; refuses past the limits."""

    def __init__(self, per_device: int = PER_DEVICE, per_address: int = PER_ADDRESS) -> None:
        self.per_device = per_device
        self.per_address = per_address
        self.devices: Counter[str] = Counter()
        self.addresses: Counter[str] = Counter()

    def admit(self, device: str, address: str) -> str | None:
        """Take a slot; returns None, or why not ("device" or "address")."""
        if self.devices[device] >= self.per_device:
            return "device"
        if address not in TRUSTED and self.addresses[address] >= self.per_address:
            return "address"
        self.devices[device] += 1
        self.addresses[address] += 1
        return None

    def release(self, device: str, address: str) -> None:
        """Give the slot back (every admitted connection, exactly once)."""
        for counter, key in ((self.devices, device), (self.addresses, address)):
            counter[key] -= 1
            if counter[key] <= 0:
                del counter[key]


def hsts_header(scheme: str) -> dict[str, str]:
    """Strict-Transport-Security, only over HTTPS (over plain HTTP browsers ignore it)."""
    if scheme in ("https", "wss"):
        return {"Strict-Transport-Security": "max-age=31536000"}
    return {}


def hsts_middleware(app: Any) -> Any:
    """ASGI middleware: every answer over HTTPS tells the browser to stay on HTTPS."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await app(scope, receive, send)
            return

        async def send_with_hsts(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"strict-transport-security" for k, _ in headers):
                    headers += [(k.lower().encode(), v.encode()) for k, v in hsts_header("https").items()]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_hsts)

    return middleware
