"""What the box's network looks like right now, read from the kernel through netifaces.

The box serves tablets on its own Wi-Fi and has an uplink only sometimes (after a
sitting, a cable to the office network). Nothing here is cached: addresses change when
a cable is plugged, and the callers (URLs on pairing cards, the sync loop) want the
current truth.
"""

from __future__ import annotations

import ipaddress
from typing import TypedDict

import netifaces


class InterfaceInfo(TypedDict):
    """One network interface as the appliance reports it."""

    name: str
    ipv4: list[str]
    ipv6: list[str]
    mac: str | None


def _addresses(entries: list[dict[str, str]]) -> list[str]:
    # Link-local IPv6 comes back as "fe80::1%eth0"; the interface is already the key.
    return [entry["addr"].split("%", 1)[0] for entry in entries if entry.get("addr")]


def list_interfaces() -> list[InterfaceInfo]:
    """Every interface with its IPv4 and IPv6 addresses and hardware address."""
    result: list[InterfaceInfo] = []
    for name in netifaces.interfaces():
        table = netifaces.ifaddresses(name)
        links = table.get(netifaces.AF_LINK, [])
        mac = links[0].get("addr") if links else None
        result.append(
            InterfaceInfo(
                name=name,
                ipv4=_addresses(table.get(netifaces.AF_INET, [])),
                ipv6=_addresses(table.get(netifaces.AF_INET6, [])),
                mac=mac or None,
            )
        )
    return result


def has_uplink() -> bool:
    """True when a default IPv4 route exists: the only sign of a way out we can read offline."""
    defaults = netifaces.gateways().get("default", {})
    return netifaces.AF_INET in defaults


def server_addresses() -> list[str]:
    """Non-loopback IPv4 addresses in interface order: what a tablet can type or scan."""
    found: list[str] = []
    for info in list_interfaces():
        for addr in info["ipv4"]:
            try:
                ip = ipaddress.IPv4Address(addr)
            except ValueError:
                continue
            if not ip.is_loopback and addr not in found:
                found.append(addr)
    return found
