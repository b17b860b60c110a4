"""Interfaces are read from this machine for real; only the uplink test fakes netifaces."""

from __future__ import annotations

import netifaces
import pytest

from appliance.network import interfaces
from appliance.network.interfaces import has_uplink, list_interfaces, server_addresses


def test_loopback_is_listed_with_its_ipv4_address() -> None:
    by_name = {info["name"]: info for info in list_interfaces()}
    assert "lo" in by_name
    assert "127.0.0.1" in by_name["lo"]["ipv4"]
    assert set(by_name["lo"]) == {"name", "ipv4", "ipv6", "mac"}


def test_server_addresses_never_offer_loopback() -> None:
    addresses = server_addresses()
    assert all(not addr.startswith("127.") for addr in addresses)
    assert len(addresses) == len(set(addresses))


def test_ipv6_addresses_drop_the_scope_suffix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netifaces, "interfaces", lambda: ["wlan0"])
    monkeypatch.setattr(
        netifaces,
        "ifaddresses",
        lambda name: {
            netifaces.AF_LINK: [{"addr": "02:00:00:00:00:01"}],
            netifaces.AF_INET: [{"addr": "10.42.0.1"}],
            netifaces.AF_INET6: [{"addr": "fe80::1%wlan0"}],
        },
    )
    assert list_interfaces() == [
        {"name": "wlan0", "ipv4": ["10.42.0.1"], "ipv6": ["fe80::1"], "mac": "02:00:00:00:00:01"}
    ]
    assert server_addresses() == ["10.42.0.1"]


def test_uplink_follows_the_default_ipv4_route(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        interfaces.netifaces, "gateways", lambda: {"default": {netifaces.AF_INET: ("192.0.2.1", "eth0")}}
    )
    assert has_uplink() is True
    monkeypatch.setattr(
        interfaces.netifaces, "gateways", lambda: {"default": {netifaces.AF_INET6: ("fd00::1", "eth0")}}
    )
    assert has_uplink() is False
    monkeypatch.setattr(interfaces.netifaces, "gateways", lambda: {"default": {}})
    assert has_uplink() is False


def test_uplink_on_this_machine_is_a_bool() -> None:
    assert isinstance(has_uplink(), bool)
