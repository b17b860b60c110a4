"""The image recipe without building it: every file parses and the pieces name each other rightly.

The slow test (test_rootfs.py) builds the root filesystem; this one runs in CI in a
second and catches the usual breakage: a program missing from supervisord, a unit
pointing at a path nothing creates, a file in files/ that build.sh never installs.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.network.config import (
    DNSMASQ_CONF,
    HALL_NETWORK,
    HALL_NETWORK_LINK,
    HOSTAPD_CONF,
    HOSTAPD_DROPIN,
    UPLINK_NETWORK,
    NetworkSettings,
    write_network_config,
    write_static_config,
)

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "image_build"
FILES = IMAGE / "files"
DESIGN = REPO.parent / "shared" / "DESIGN.md"
BUILD = (IMAGE / "build.sh").read_text()


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit or .network file: sections of keys, each with every value given (keys repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for n, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}:{n}"
            section = line[1:-1]
            out.setdefault(section, {})
            continue
        key, sep, value = line.partition("=")
        assert sep and section and key.strip() == key, f"{path.name}:{n}: {raw!r}"
        out[section].setdefault(key, []).append(value)
    return out


def env_file(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_build_script_is_valid_bash_and_installs_every_file() -> None:
    subprocess.run(["bash", "-n", str(IMAGE / "build.sh")], check=True)
    for script in ("phs-firstboot", "phs-cli", "phs-kiosk"):
        subprocess.run(["sh", "-n", str(FILES / script)], check=True)
    installed = set(re.findall(r'\$HERE/files/([A-Za-z0-9_.-]+)"', BUILD))
    installed |= {u for line in re.findall(r"for unit in ([^;]+);", BUILD) for u in line.split()}
    assert installed == {p.name for p in FILES.iterdir()}
    assert 'SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct' in BUILD  # reproducible times
    assert "debootstrap --variant=minbase" in BUILD and 'SUITE="${PHS_SUITE:-bookworm}"' in BUILD


def test_supervisord_runs_the_programs_of_the_design_on_the_current_release() -> None:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(FILES / "supervisord-phs.conf")
    programs = {s.removeprefix("program:"): conf[s] for s in conf.sections() if s.startswith("program:")}
    if DESIGN.exists():
        section = DESIGN.read_text().split("## Processes (supervisord)", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # after the header and the rule
        designed = {row.split("|")[1].strip() for row in rows}
        assert set(programs) == designed == {"web", "devices", "sync", "kiosk"}
    releases = env_file(FILES / "phs.env")["PHS_RELEASES_ROOT"]
    for name, command in (("web", "serve"), ("devices", "devices"), ("sync", "sync")):
        assert programs[name]["command"] == f"{releases}/current/venv/bin/phs {command}"
        assert programs[name]["autorestart"] == "true"
    assert (programs["web"]["user"], programs["sync"]["user"], programs["devices"]["user"]) == ("phs", "phs", "root")
    assert programs["kiosk"]["command"] == "/usr/local/bin/phs-kiosk"
    service = unit(FILES / "phs.service")
    assert service["Service"]["ExecStart"] == ["/usr/bin/supervisord -n -c /etc/supervisor/conf.d/phs.conf"]
    assert '"$HERE/files/supervisord-phs.conf" "$root/etc/supervisor/conf.d/phs.conf"' in BUILD
    assert service["Service"]["EnvironmentFile"] == ["/etc/phs/phs.env"] and '"$root/etc/phs/phs.env"' in BUILD


def test_updates_and_network_changes_restart_what_they_must() -> None:
    releases = env_file(FILES / "phs.env")["PHS_RELEASES_ROOT"]
    assert releases.startswith("/var/lib/phs/")  # the data partition: the root is read-only
    update = unit(FILES / "phs-update.path")
    assert update["Path"]["PathChanged"] == [f"{releases}/current"]
    assert unit(FILES / "phs-update.service")["Service"]["ExecStart"] == ["/bin/systemctl restart phs.service"]
    firstboot = (FILES / "phs-firstboot").read_text()
    assert f"ln -s /opt/phs/current {releases}/current" in firstboot
    watched = unit(FILES / "phs-network.path")["Path"]["PathChanged"]
    assert watched == [f"/{HOSTAPD_CONF}", f"/{DNSMASQ_CONF}", f"/{HALL_NETWORK}"]
    assert unit(FILES / "phs-network.service")["Service"]["ExecStart"] == [
        "/usr/bin/networkctl reload", "/bin/systemctl try-restart hostapd.service dnsmasq.service"]
    assert "systemctl unmask hostapd.service" in BUILD and "phs-network.path" in BUILD


def test_read_only_root_watchdog_and_usb_rules() -> None:
    fstab = {f[1]: f for f in (line.split() for line in (FILES / "fstab").read_text().splitlines() if line and not line.startswith("#"))}
    assert fstab["/"][0] == "PARTLABEL=phs-root" and "ro" in fstab["/"][3].split(",")
    assert {"/tmp", "/var/log", "/var/tmp"} <= {m for m, f in fstab.items() if f[2] == "tmpfs"}
    watchdog = unit(FILES / "watchdog.conf")["Manager"]
    assert (watchdog["RuntimeWatchdogSec"], watchdog["RebootWatchdogSec"]) == (["30s"], ["10min"])
    rules = [line for p in (FILES / "90-phs-usb.rules", *REPO.glob("firmware_scripts/*.rules")) for line in p.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(rules) >= 3 and any("firmware_scripts" in line for line in BUILD.splitlines())
    for rule in rules:
        pairs = [p.strip() for p in rule.split(",")]
        assert all(re.fullmatch(r'[A-Z_]+(\{[A-Za-z_]+\})?(==|!=|=|\+=)"[^"]*"', p) for p in pairs), rule
        assert any("==" in p for p in pairs), rule


def test_network_files_on_the_box_point_at_each_other(tmp_path: Path) -> None:
    written = write_static_config(tmp_path) + write_network_config(NetworkSettings(passphrase="mat-khau-wifi-2026"), tmp_path)
    dropin = unit(tmp_path / HOSTAPD_DROPIN)["Service"]
    assert dropin["ExecStart"] == ["", f"/usr/sbin/hostapd /{HOSTAPD_CONF}"] and dropin["Type"] == ["simple"]
    link = tmp_path / HALL_NETWORK_LINK
    assert link.is_symlink() and str(link.readlink()) == f"/{HALL_NETWORK}" and link in written
    hall = unit(tmp_path / HALL_NETWORK)
    assert (hall["Match"]["Name"], hall["Network"]["Address"]) == (["wlan0"], ["10.42.0.1/24"])
    uplink = unit(tmp_path / UPLINK_NETWORK)
    assert uplink["Network"]["DHCP"] == ["ipv4"] and "wlan0" not in uplink["Match"]["Name"][0]


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq is not installed here")
def test_dnsmasq_itself_accepts_the_generated_options(tmp_path: Path) -> None:
    write_network_config(NetworkSettings(ssid="HĐND phường Cửa Nam", passphrase="mat-khau-wifi-2026"), tmp_path)
    run = subprocess.run(["dnsmasq", "--test", f"--conf-file={tmp_path / DNSMASQ_CONF}"], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "syntax check OK" in run.stderr, run.stderr
