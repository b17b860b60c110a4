"""Kiosk browsers as supervisord programs: a real supervisord (from the venv) with the
configuration `phs up` writes, driven through its XML-RPC socket by ``SupervisorKiosks``
as connectors are plugged and unplugged and views are assigned."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from supervisor.xmlrpc import SupervisorTransport

from appliance.core.settings import Settings
from appliance.devices.displays import (
    KioskSupervisor,
    ProcessKiosks,
    SupervisorKiosks,
    program_name,
    safe_connector,
    view_url,
)
from appliance.devices.program import choose_kiosks
from appliance.supervise import kiosk_programs_dir, render_config, run_dir, supervisor_socket

# A harmless stand-in browser: sleeps, carrying its URL and profile in its command line.
SLEEPER = "import time; time.sleep(600)"
KIOSK_COMMAND = f'{sys.executable} -c "{SLEEPER}" {{url}} {{profile}}'
BASE = "http://127.0.0.1:8080"


class Supervisord:
    """supervisord in the foreground on a tmp data dir, and its XML-RPC interface."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        run_dir(data_dir).mkdir()
        kiosk_programs_dir(data_dir).mkdir()
        self.conf = run_dir(data_dir) / "supervisord.conf"
        self.conf.write_text(render_config(data_dir, []))
        self.log = (data_dir / "supervisord.out").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(self.conf)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.serverurl = f"unix://{supervisor_socket(data_dir)}"
        wait_for(self._up)

    def rpc(self) -> Any:
        transport = SupervisorTransport(serverurl=self.serverurl)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def _up(self) -> bool:
        assert self.proc.poll() is None, (self.data_dir / "supervisord.out").read_text()
        try:
            return bool(self.rpc().getState()["statename"] == "RUNNING")
        except OSError:
            return False

    def kiosks(self) -> dict[str, tuple[str, list[str]]]:
        """Every kiosk program supervisord knows: its state and, when it has one, its process's argv."""
        found = {}
        for info in self.rpc().getAllProcessInfo():
            if info["name"].startswith("kiosk-"):
                found[info["name"]] = (info["statename"], cmdline(info["pid"]) if info["pid"] else [])
        return found

    def shutdown(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # supervisord stops its programs, kiosks included
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def environ(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")[:-1]
    return dict(pair.partition("=")[::2] for pair in pairs)


def gone(pid: int) -> bool:
    try:
        return "\nState:\tZ" in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True


def wait_for(check: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def supervisord() -> Iterator[Supervisord]:
    # The control socket path must stay under ~108 bytes; pytest's tmp_path may not.
    data_dir = Path(tempfile.mkdtemp(prefix="phs-", dir="/tmp"))
    sup = None
    try:
        sup = Supervisord(data_dir)
        yield sup
    finally:
        if sup is not None:
            sup.shutdown()
        shutil.rmtree(data_dir, ignore_errors=True)


def browser(sup: Supervisord, connector: str, view: str) -> tuple[str, list[str]]:
    profile = run_dir(sup.data_dir) / "kiosk" / safe_connector(connector)
    return "RUNNING", [sys.executable, "-c", SLEEPER, view_url(BASE, view, connector), str(profile)]


def test_kiosks_are_supervisord_programs_that_follow_plugs_and_views(supervisord: Supervisord) -> None:
    sup = supervisord
    include = kiosk_programs_dir(sup.data_dir)
    kiosks = SupervisorKiosks(KIOSK_COMMAND, run_dir(sup.data_dir) / "kiosk", include, sup.serverurl)
    plugged = {"HDMI-A-1": True, "HDMI-A-2": False, "Virtual:1 x": True}
    displays = KioskSupervisor(kiosks, BASE, scan=lambda: dict(plugged))
    odd = program_name("Virtual:1 x")
    try:
        displays.rescan()
        want = {"kiosk-HDMI-A-1": browser(sup, "HDMI-A-1", "hall"), odd: browser(sup, "Virtual:1 x", "hall")}
        wait_for(lambda: sup.kiosks() == want)
        assert sorted(p.name for p in include.iterdir() if p.suffix == ".conf") == [
            "HDMI-A-1.conf", f"{odd.removeprefix('kiosk-')}.conf"]
        pid = sup.rpc().getProcessInfo("kiosk-HDMI-A-1")["pid"]
        # What `phs devices` relies on to find supervisord, from a child of supervisord itself.
        assert environ(pid)["SUPERVISOR_ENABLED"] == "1"
        assert environ(pid)["SUPERVISOR_SERVER_URL"] == sup.serverurl

        # A second screen is plugged in: its own program, the hall view; the first is untouched.
        plugged["HDMI-A-2"] = True
        displays.rescan()
        want["kiosk-HDMI-A-2"] = browser(sup, "HDMI-A-2", "hall")
        wait_for(lambda: sup.kiosks() == want)

        # The technician puts the speaker view on it: only that program restarts, with the new URL.
        displays.assign({"HDMI-A-2": "speaker"})
        want["kiosk-HDMI-A-2"] = browser(sup, "HDMI-A-2", "speaker")
        wait_for(lambda: sup.kiosks() == want)
        assert sup.rpc().getProcessInfo("kiosk-HDMI-A-1")["pid"] == pid
        assert "view=speaker" in (include / "HDMI-A-2.conf").read_text()

        # Unplugged: its program is stopped, its group removed, its file deleted.
        plugged["HDMI-A-1"] = False
        displays.rescan()
        del want["kiosk-HDMI-A-1"]
        assert sup.kiosks() == want
        assert not (include / "HDMI-A-1.conf").exists()
        wait_for(lambda: gone(pid))
        assert displays.status() == [
            {"connector": "HDMI-A-1", "connected": False, "view": "hall", "running": False},
            {"connector": "HDMI-A-2", "connected": True, "view": "speaker", "running": True},
            {"connector": "Virtual:1 x", "connected": True, "view": "hall", "running": True},
        ]
        pids = [info["pid"] for info in sup.rpc().getAllProcessInfo()]
    finally:
        displays.stop()
    assert sup.kiosks() == {}
    assert list(include.glob("*.conf")) == []
    assert all(gone(p) for p in pids)


def test_a_kiosk_that_exits_is_restarted_by_supervisord(supervisord: Supervisord) -> None:
    sup = supervisord
    kiosks = SupervisorKiosks(KIOSK_COMMAND, run_dir(sup.data_dir) / "kiosk", kiosk_programs_dir(sup.data_dir),
                              sup.serverurl)
    kiosks.start("DP-1", view_url(BASE, "seating", "DP-1"))
    wait_for(lambda: kiosks.running("DP-1"))
    first = sup.rpc().getProcessInfo("kiosk-DP-1")["pid"]
    subprocess.run(["kill", "-KILL", str(first)], check=True)
    # One call for state and pid: RUNNING with a new pid is the restarted browser, past its exec.
    wait_for(lambda: (info := sup.rpc().getProcessInfo("kiosk-DP-1"))["statename"] == "RUNNING" and info["pid"] != first)
    assert sup.kiosks() == {"kiosk-DP-1": browser(sup, "DP-1", "seating")}
    assert kiosks.running("DP-1") is True
    kiosks.stop("DP-1")
    kiosks.stop("DP-1")  # stopping what is not there is a no-op
    assert sup.kiosks() == {}
    assert kiosks.running("DP-1") is False


def test_a_restarted_devices_program_clears_the_kiosks_it_left(supervisord: Supervisord) -> None:
    sup = supervisord
    args = (KIOSK_COMMAND, run_dir(sup.data_dir) / "kiosk", kiosk_programs_dir(sup.data_dir), sup.serverurl)
    before = SupervisorKiosks(*args)
    before.start("HDMI-A-1", view_url(BASE, "hall", "HDMI-A-1"))
    before.start("HDMI-A-2", view_url(BASE, "hall", "HDMI-A-2"))
    wait_for(lambda: set(sup.kiosks()) == {"kiosk-HDMI-A-1", "kiosk-HDMI-A-2"})
    SupervisorKiosks(*args).stop_all()  # what the next `phs devices` does first
    assert sup.kiosks() == {}
    assert list(kiosk_programs_dir(sup.data_dir).glob("*.conf")) == []


def test_program_names_are_safe_and_distinct() -> None:
    assert program_name("HDMI-A-1") == "kiosk-HDMI-A-1"
    assert program_name("eDP_1") == "kiosk-eDP_1"
    odd = [program_name(c) for c in ("DP-1:2", "DP-1 2", "DP-1/2", "", "DP-1_2")]
    assert len(set(odd)) == 5
    assert all(name.startswith("kiosk-") and name[6:].replace("-", "").replace("_", "").isalnum() for name in odd[:4])
    assert program_name("DP-1:2").startswith("kiosk-DP-1_2-")


def test_a_percent_in_the_url_survives_supervisords_expansion(tmp_path: Path) -> None:
    kiosks = SupervisorKiosks("browser {url}", tmp_path / "p", tmp_path / "k", "unix:///nowhere")
    text = kiosks.section("HDMI-A-1", "http://box/ui/display.html?view=hall&output=A%201")
    assert "command=browser 'http://box/ui/display.html?view=hall&output=A%%201'" in text


def test_devices_uses_supervisord_only_when_running_under_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, kiosk_command=KIOSK_COMMAND)
    under = {"SUPERVISOR_ENABLED": "1", "SUPERVISOR_SERVER_URL": "unix:///run/phs/supervisor.sock"}
    kiosks = choose_kiosks(settings, tmp_path, under)
    assert isinstance(kiosks, SupervisorKiosks)
    assert (kiosks.serverurl, kiosks.include_dir) == ("unix:///run/phs/supervisor.sock", tmp_path / "run" / "kiosks")
    assert isinstance(choose_kiosks(settings, tmp_path, {}), ProcessKiosks)
    assert isinstance(choose_kiosks(settings, tmp_path, {"SUPERVISOR_ENABLED": "1"}), ProcessKiosks)
    assert choose_kiosks(Settings(data_dir=tmp_path), tmp_path, under) is None
