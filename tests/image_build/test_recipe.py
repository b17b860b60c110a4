"""The image recipe without building it: every file parses and the pieces name each other rightly.

The slow test (test_rootfs.py) builds the root filesystem; this one runs in CI in a
second and catches the usual breakage: a program missing from supervisord, a unit
pointing at a path nothing creates, a file in files/ that build.sh never installs.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest

from appliance.devices.displays import SupervisorKiosks
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
from appliance.supervise import kiosk_programs_dir

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


def unit_lines(path: Path) -> list[str]:
    """The lines of a config file that are not comments or blank."""
    return [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def env_file(path: Path) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return {k: v for k, v in pairs}


def test_build_script_is_valid_bash_and_installs_every_file() -> None:
    subprocess.run(["bash", "-n", str(IMAGE / "build.sh")], check=True)
    for script in ("phs-firstboot", "phs-cli", "phs-kiosk", "phs-boot-report"):
        subprocess.run(["sh", "-n", str(FILES / script)], check=True)
    installed = set(re.findall(r'\$HERE/files/([A-Za-z0-9_.-]+)"', BUILD))
    installed |= {u for line in re.findall(r"for unit in ([^;]+);", BUILD) for u in line.split()}
    assert installed == {p.name for p in FILES.iterdir()}
    assert 'SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct' in BUILD  # reproducible times
    assert "debootstrap --variant=minbase" in BUILD and 'SUITE="${PHS_SUITE:-bookworm}"' in BUILD


def shell_vars(text: str) -> dict[str, str]:
    """The plain ``NAME=value`` assignments at the top level of a shell script."""
    return dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', text, flags=re.M))


def test_disk_image_boots_the_read_only_root_by_its_partuuid() -> None:
    build = shell_vars(BUILD)
    assert set(build["BOOT_PACKAGES"].split(",")) >= {"linux-image-amd64", "initramfs-tools", "systemd-boot"}
    assert build["KERNEL_OPTIONS"].split() == [
        "root=PARTUUID=$ROOT_PARTUUID", "ro", "rootfstype=ext4", "console=tty0", "console=ttyS0,115200n8", "panic=10"]
    table = BUILD.split("<<PARTS\n", 1)[1].split("\nPARTS\n", 1)[0].splitlines()
    partitions = [dict(f.strip().split("=", 1) for f in line.split(",")) for line in table if line.startswith("start=")]
    assert [(p["name"], p["uuid"]) for p in partitions] == [
        ("esp", "$ESP_PARTUUID"), ("phs-root", "$ROOT_PARTUUID"), ("phs-data", "$DATA_PARTUUID")]
    assert partitions[0]["type"] == "uefi" and partitions[1]["type"] == "$ROOT_TYPE"
    uuids = [build[k] for k in ("DISK_GUID", "ESP_PARTUUID", "ROOT_PARTUUID", "DATA_PARTUUID", "ROOT_FS_UUID")]
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u) for u in uuids)
    assert len(set(uuids)) == 5
    # The loader at the removable-media path, no menu editing, and the kernel on the ESP.
    assert 'install -m 0644 "$efi" "$stage/EFI/BOOT/BOOTX64.EFI"' in BUILD
    assert "printf 'default phs.conf\\ntimeout 0\\neditor no\\n'" in BUILD
    assert "linux   /phs/vmlinuz" in BUILD and "options $KERNEL_OPTIONS" in BUILD
    fstab = {f[1]: f for f in (line.split() for line in (FILES / "fstab").read_text().splitlines() if line and not line.startswith("#"))}
    assert fstab["/"][0] == "PARTLABEL=phs-root" and fstab["/boot/efi"][0] == "PARTLABEL=esp"


def supervisord_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kiosks: dict[str, str]) -> Any:
    """The box's supervisord configuration as supervisord itself reads it, with ``kiosks`` written
    by ``SupervisorKiosks`` (connector -> view URL) and the display program included."""
    import supervisor.options

    text = (FILES / "supervisord-phs.conf").read_text()
    display = (FILES / "supervisord-display.conf").read_text()
    for prefix in ("/var/lib/phs/", "/run/phs/", "/etc/supervisor/phs.d/"):  # the box's paths, under tmp_path
        text, display = text.replace(prefix, f"{tmp_path}{prefix}"), display.replace(prefix, f"{tmp_path}{prefix}")
        (tmp_path / prefix.strip("/")).mkdir(parents=True, exist_ok=True)
    (tmp_path / "var/lib/phs/log").mkdir()
    (tmp_path / "etc/supervisor/phs.d/display.conf").write_text(display)
    data = Path(f"{tmp_path}{env_file(FILES / 'phs.env')['PHS_DATA_DIR']}")
    writer = SupervisorKiosks(env_file(FILES / "phs.env")["PHS_KIOSK_COMMAND"], data / "run/kiosk",
                              kiosk_programs_dir(data), "unix:///run/phs/supervisor.sock")
    kiosk_programs_dir(data).mkdir(parents=True)
    for connector, url in kiosks.items():
        writer.conf_path(connector).write_text(writer.section(connector, url))
    (tmp_path / "phs.conf").write_text(text)
    # supervisord resolves user names when it reads a program; the build host has no phs user.
    monkeypatch.setattr(supervisor.options, "name_to_uid", {"root": 0, "phs": 999}.__getitem__)
    options = supervisor.options.ServerOptions()
    options.configfile = str(tmp_path / "phs.conf")
    return options.read_config(str(tmp_path / "phs.conf"))


def test_supervisord_runs_the_design_and_one_kiosk_per_output_that_phs_devices_adds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "http://127.0.0.1:8080/ui/display.html?view=hall&output=HDMI-A-1"
    conf = supervisord_config(tmp_path, monkeypatch, {"HDMI-A-1": url})
    programs = {c.name: c for g in conf.process_group_configs for c in g.process_configs}
    releases = f"{tmp_path}{env_file(FILES / 'phs.env')['PHS_RELEASES_ROOT']}"
    assert {n: (p.command, p.uid, p.autostart) for n, p in programs.items() if n in ("web", "devices", "sync")} == {
        "web": (f"{releases}/current/venv/bin/phs serve", 999, True),
        "devices": (f"{releases}/current/venv/bin/phs devices", 0, True),  # root: mount(8) and the socket
        "sync": (f"{releases}/current/venv/bin/phs sync", 999, True),
    }
    # The kiosk of DESIGN.md is one program per connected output, from phs devices' file:
    # the launcher with the URL, the connector and the output's own profile.
    data = env_file(FILES / "phs.env")["PHS_DATA_DIR"]
    kiosk = programs["kiosk-HDMI-A-1"]
    assert shlex.split(kiosk.command) == ["/usr/local/bin/phs-kiosk", url, "HDMI-A-1", f"{tmp_path}{data}/run/kiosk/HDMI-A-1"]
    assert (kiosk.autostart, kiosk.autorestart is not False, kiosk.stopasgroup) == (False, True, True)
    display = programs["display"]
    assert shlex.split(display.command)[:2] == ["/usr/bin/Xorg", ":0"] and "-nolisten" in display.command
    assert display.priority < min(p.priority for n, p in programs.items() if n != "display")  # X before the browsers
    if DESIGN.exists():
        section = DESIGN.read_text().split("## Processes (supervisord)", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # after the header and the rule
        assert {row.split("|")[1].strip() for row in rows} == {"web", "devices", "sync", "kiosk"}
        assert set(programs) == {"web", "devices", "sync", "display", "kiosk-HDMI-A-1"}
    # phs devices reaches supervisord over its XML-RPC interface on the socket it is given.
    [server] = conf.server_configs
    assert (server["family"], server["file"], server["chmod"]) == (socket.AF_UNIX, f"{tmp_path}/run/phs/supervisor.sock", 0o700)
    assert [name for name, _factory, _args in conf.rpcinterface_factories] == ["supervisor"]
    service = unit(FILES / "phs.service")
    assert service["Service"]["RuntimeDirectory"] == ["phs"]  # /run/phs, the socket's directory
    assert service["Service"]["ExecStart"] == ["/usr/bin/supervisord -n -c /etc/supervisor/conf.d/phs.conf"]
    assert service["Service"]["EnvironmentFile"] == ["/etc/phs/phs.env", "-/run/phs-keys/locked.env"]
    assert '"$HERE/files/supervisord-phs.conf" "$root/etc/supervisor/conf.d/phs.conf"' in BUILD
    assert '"$HERE/files/supervisord-display.conf" "$root/etc/supervisor/phs.d/display.conf"' in BUILD
    assert '"$root/etc/phs/phs.env"' in BUILD


def test_the_kiosk_include_is_where_phs_devices_writes() -> None:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read(FILES / "supervisord-phs.conf")
    data = Path(env_file(FILES / "phs.env")["PHS_DATA_DIR"])
    assert conf["include"]["files"].split() == ["/etc/supervisor/phs.d/*.conf", f"{kiosk_programs_dir(data)}/*.conf"]
    assert not [s for s in conf.sections() if s.startswith("program:kiosk")]  # no static kiosk left


KIOSK_XRANDR = """Screen 0: minimum 320 x 200, current 1920 x 1080, maximum 16384 x 16384
HDMI-1 connected primary 1920x1080+0+0 (normal left inverted right x axis y axis) 530mm x 300mm
   1920x1080     60.00*+  50.00    59.94
   1280x720      60.00    50.00
DP-1 disconnected (normal left inverted right x axis y axis)
HDMI-2 connected (normal left inverted right x axis y axis)
   1280x1024     60.02 +  75.02
   1024x768      60.00
DP-2 connected (normal left inverted right x axis y axis)
   1024x768      60.00
"""


def run_kiosk(tmp_path: Path, connector: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """phs-kiosk against a fake X server: xrandr, chown and setpriv record their arguments."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    calls = tmp_path / "calls"
    (tmp_path / "xrandr.txt").write_text(KIOSK_XRANDR)
    for name, body in {
        "xrandr": f'[ "$1" = --query ] && exec cat {tmp_path}/xrandr.txt\necho "xrandr $*" >> {calls}',
        "chown": f'echo "chown $*" >> {calls}',
        "setpriv": f'echo "setpriv $*" >> {calls}',
    }.items():
        (fake / name).write_text(f"#!/bin/sh\n{body}\n")
        (fake / name).chmod(0o755)
    sockets = tmp_path / "x11"
    sockets.mkdir(exist_ok=True)
    if not (sockets / "X0").exists():
        with socket.socket(socket.AF_UNIX) as x_server:  # the socket file stays: all phs-kiosk looks for
            x_server.bind(str(sockets / "X0"))
    profile = f"/var/lib/phs/data/run/kiosk/{connector}"
    run = subprocess.run(
        ["sh", str(FILES / "phs-kiosk"), "http://127.0.0.1:8080/ui/display.html?view=seating", connector, profile],
        env={"PATH": f"{fake}:/usr/bin:/bin", "PHS_X11_SOCKETS": str(sockets)},
        capture_output=True, text=True, check=False, timeout=30,
    )
    return run, calls.read_text().splitlines() if calls.exists() else []


def test_the_kiosk_launcher_puts_each_output_beside_the_ones_before_it(tmp_path: Path) -> None:
    run, calls = run_kiosk(tmp_path, "HDMI-A-2")
    assert run.returncode == 0, run.stderr
    assert calls[:2] == ["xrandr --output HDMI-2 --auto --pos 1920x0", "chown phs: /var/lib/phs/data/run/kiosk/HDMI-A-2"]
    browser = calls[2].split()
    assert browser[:5] == ["setpriv", "--reuid=phs", "--regid=phs", "--init-groups", "--reset-env"]
    assert "chromium" in browser and "--kiosk" in browser
    assert {"--window-position=1920,0", "--window-size=1280,1024",
            "--user-data-dir=/var/lib/phs/data/run/kiosk/HDMI-A-2", "HOME=/var/lib/phs/data/run/kiosk/HDMI-A-2"} <= set(browser)
    assert browser[-1] == "http://127.0.0.1:8080/ui/display.html?view=seating"
    # A third output starts after both; one without a preferred mode takes its first.
    _, calls = run_kiosk(tmp_path, "DP-2")
    assert calls[-3] == "xrandr --output DP-2 --auto --pos 3200x0"
    assert "--window-size=1024,768" in calls[-1].split()


def test_the_kiosk_launcher_refuses_an_output_x_does_not_show(tmp_path: Path) -> None:
    run, calls = run_kiosk(tmp_path, "DP-1")
    assert run.returncode == 1 and calls == []
    assert run.stderr.strip() == "phs-kiosk: output DP-1 (DP-1) is not connected in X"


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
    # Debian's unit starts hostapd only with a non-empty /etc/hostapd/hostapd.conf, which the box has not.
    assert unit(FILES / "hostapd-condition.conf")["Unit"]["ConditionFileNotEmpty"] == ["", f"/{HOSTAPD_CONF}"]
    assert f'"$root/{HOSTAPD_DROPIN.parent}/phs-condition.conf"' in BUILD
    # dnsmasq's default lease file is on the read-only root.
    assert unit_lines(FILES / "dnsmasq-leases.conf") == ["dhcp-leasefile=/run/dnsmasq/dnsmasq.leases"]
    assert '"$root/etc/dnsmasq.d/phs-leases.conf"' in BUILD
    restart = unit(FILES / "dnsmasq-restart.conf")  # wlan0 may come up after dnsmasq
    assert (restart["Service"]["Restart"], restart["Unit"]["StartLimitIntervalSec"]) == (["on-failure"], ["0"])
    assert '"$root/etc/systemd/system/dnsmasq.service.d/phs-restart.conf"' in BUILD


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
