"""The hall network generated from a bundle: hostapd and dnsmasq files parse and say what the bundle said."""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.network.config import (
    AVAHI_SERVICE,
    DNSMASQ_CONF,
    HOSTAPD_CONF,
    NetworkSettings,
    write_network_config,
    write_static_config,
)
from tests.network.confparse import parse_dnsmasq, parse_hostapd
from tests.provisioning.conftest import SITTING

NET = NetworkSettings(**SITTING["network"])


def test_hostapd_config_carries_the_bundles_ssid_passphrase_and_channel(tmp_path: Path) -> None:
    write_network_config(NET, tmp_path)
    conf = parse_hostapd((tmp_path / HOSTAPD_CONF).read_text())
    assert bytes.fromhex(conf["ssid2"]).decode() == "HĐND Thử nghiệm"
    assert conf["wpa_passphrase"] == "mat-khau-wifi-2026"
    assert (conf["channel"], conf["hw_mode"], conf["country_code"]) == ("11", "g", "VN")
    assert (conf["wpa"], conf["wpa_key_mgmt"], conf["rsn_pairwise"]) == ("2", "WPA-PSK", "CCMP")
    assert conf["interface"] == "wlan0"
    assert stat.S_IMODE((tmp_path / HOSTAPD_CONF).stat().st_mode) == 0o600  # the passphrase


def test_dnsmasq_config_serves_the_bundles_dhcp_range_and_phs_local(tmp_path: Path) -> None:
    write_network_config(NET, tmp_path)
    opts = parse_dnsmasq((tmp_path / DNSMASQ_CONF).read_text())
    start, end, mask, lease = opts["dhcp-range"][0].split(",")
    assert (start, end, lease) == ("10.42.0.50", "10.42.0.200", "12h")
    assert ipaddress.IPv4Network(f"10.42.0.0/{mask}").prefixlen == 24
    assert ["address", "/phs.local/10.42.0.1"][1] in opts["address"]
    assert opts["dhcp-option"] == ["option:router,10.42.0.1", "option:dns-server,10.42.0.1"]
    assert "no-resolv" in opts and opts["interface"] == ["wlan0"]


def test_static_files_announce_phs_local_and_point_daemons_at_the_data_partition(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    write_static_config(tmp_path, port=8080)
    service = ET.parse(tmp_path / AVAHI_SERVICE).getroot()
    assert (service.findtext("service/type"), service.findtext("service/port")) == ("_http._tcp", "8080")
    assert parse_dnsmasq((tmp_path / "etc/dnsmasq.d/phs.conf").read_text())["conf-file"] == [f"/{DNSMASQ_CONF}"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"passphrase": "short"}, "passphrase"),
        ({"ssid": "x" * 33}, "ssid"),
        ({"channel": 14}, "channel"),
        ({"dhcp_start": "10.42.1.5"}, "dhcp"),
        ({"dhcp_start": "10.42.0.1"}, "dhcp"),
        ({"address": "8.8.8.1/24", "dhcp_start": "8.8.8.10", "dhcp_end": "8.8.8.20"}, "address"),
    ],
)
def test_settings_the_daemons_would_reject_are_refused(tmp_path: Path, change: dict[str, object], field: str) -> None:
    settings = NetworkSettings(**{**SITTING["network"], **change})  # type: ignore[arg-type]
    with pytest.raises(PhsError) as refused:
        write_network_config(settings, tmp_path)
    assert (refused.value.code, refused.value.detail["field"]) == ("bundle_invalid", field)
    assert not (tmp_path / HOSTAPD_CONF).exists()
