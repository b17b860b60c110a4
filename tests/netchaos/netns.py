"""The clients' own network namespace, joined to the host by a veth pair, when the machine
allows it (root with CAP_NET_ADMIN); otherwise None and the proxy runs on loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Namespace:
    """A namespace whose only way out is ``host_ip`` (where the proxy listens)."""

    name: str
    host_ip: str
    inside_ip: str

    def prefix(self) -> list[str]:
        """The command prefix that runs a program inside."""
        return ["ip", "netns", "exec", self.name]


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@contextmanager
def client_namespace() -> Iterator[Namespace | None]:
    """Yield a fresh namespace (removed afterwards), or None where namespaces do not work."""
    if shutil.which("ip") is None or os.geteuid() != 0:
        yield None
        return
    pid = os.getpid() % 60000
    name, host_if, ns_if = f"phs{pid}", f"vh{pid}", f"vn{pid}"
    # A /30 per test process so parallel runs on one machine never share an address.
    a, b = 100 + (pid >> 8) % 100, (pid & 0xFF) & 0xFC
    host_ip, inside_ip = f"10.{a}.{b}.1", f"10.{a}.{b}.2"
    try:
        _ip("netns", "add", name)
    except (subprocess.CalledProcessError, OSError):
        yield None
        return
    try:
        _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
        _ip("link", "set", ns_if, "netns", name)
        _ip("addr", "add", f"{host_ip}/30", "dev", host_if)
        _ip("link", "set", host_if, "up")
        _ip("netns", "exec", name, "ip", "addr", "add", f"{inside_ip}/30", "dev", ns_if)
        _ip("netns", "exec", name, "ip", "link", "set", ns_if, "up")
        _ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
    except (subprocess.CalledProcessError, OSError):
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        yield None
        return
    try:
        yield Namespace(name, host_ip, inside_ip)
    finally:
        subprocess.run(["ip", "link", "del", host_if], capture_output=True, check=False, timeout=10)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False, timeout=10)
