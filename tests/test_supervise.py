"""The process topology: the configuration `phs up` writes, and supervisord running it for real."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import signal
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

from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.supervise import (
    PACKAGE_ROOT,
    Program,
    kiosk_programs_dir,
    render_config,
    supervisor_socket,
    write_config,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # The control socket path must stay under ~108 bytes; pytest's tmp_path may not.
    path = Path(tempfile.mkdtemp(prefix="phs-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def parse(conf: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(conf, encoding="utf-8")
    return parser


def test_write_config_runs_web_devices_and_sync_through_phs(data_dir: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    settings = Settings(data_dir=data_dir, keys_dir=keys)
    conf = write_config(settings, data_dir, demo=True, host="0.0.0.0", port=8443, keys_dir=keys)
    assert conf == data_dir / "run" / "supervisord.conf"
    parser = parse(conf)
    programs = sorted(s for s in parser.sections() if s.startswith("program:"))
    assert programs == ["program:devices", "program:sync", "program:web"]
    phs = [sys.executable, "-m", "appliance.cli"]
    assert shlex.split(parser["program:web"]["command"]) == phs + [
        "serve", "--data", str(data_dir), "--keys", str(keys), "--host", "0.0.0.0", "--port", "8443", "--demo",
    ]
    assert shlex.split(parser["program:devices"]["command"]) == phs + ["devices", "--data", str(data_dir), "--seats", "30"]
    assert shlex.split(parser["program:sync"]["command"]) == phs + ["sync", "--data", str(data_dir)]
    for name in programs:
        section = parser[name]
        assert section["stopsignal"] == "TERM"
        assert section["autorestart"] == "true"
        assert section["stdout_logfile"] == "/dev/stdout"
        assert section["stdout_logfile_maxbytes"] == "0"
        assert section["stderr_logfile"] == "/dev/stderr"
        assert section["stderr_logfile_maxbytes"] == "0"
        assert int(section["startsecs"]) >= 1
        assert int(section["stopwaitsecs"]) >= 5
    assert parser["supervisord"]["nodaemon"] == "true"
    assert parser["unix_http_server"]["file"] == str(data_dir / "run" / "supervisor.sock")
    assert parser["supervisord"]["pidfile"] == str(data_dir / "run" / "supervisord.pid")
    assert parser["supervisord"]["logfile"] == str(data_dir / "run" / "supervisord.log")


def test_config_serves_xml_rpc_and_includes_the_kiosk_programs_of_phs_devices(data_dir: Path, tmp_path: Path) -> None:
    stale = data_dir / "run" / "kiosks" / "HDMI-A-1.conf"
    stale.parent.mkdir(parents=True)
    stale.write_text("[program:kiosk-HDMI-A-1]\ncommand=sleep 600\n")
    settings = Settings(data_dir=data_dir, keys_dir=tmp_path)
    parser = parse(write_config(settings, data_dir, demo=False, host="127.0.0.1", port=8080, keys_dir=tmp_path))
    sock = data_dir / "run" / "supervisor.sock"
    assert parser["unix_http_server"]["chmod"] == "0700"
    assert parser["rpcinterface:supervisor"]["supervisor.rpcinterface_factory"] == (
        "supervisor.rpcinterface:make_main_rpcinterface")
    assert parser["supervisorctl"]["serverurl"] == f"unix://{sock}"
    # Relative to the conf file (supervisord's rule), so odd characters in the data path do not matter.
    assert parser["include"]["files"] == "kiosks/*.conf"
    assert kiosk_programs_dir(data_dir) == data_dir / "run" / "kiosks"
    assert not stale.exists()  # a previous run's outputs; `phs devices` writes its own again


def test_without_demo_the_web_program_does_not_seed(data_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=data_dir, keys_dir=tmp_path)
    conf = write_config(settings, data_dir, demo=False, host="127.0.0.1", port=8080, keys_dir=tmp_path)
    assert "--demo" not in shlex.split(parse(conf)["program:web"]["command"])


def test_setup_code_is_never_written_to_disk(data_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=data_dir, keys_dir=tmp_path, setup_code="918273")
    conf = write_config(settings, data_dir, demo=False, host="127.0.0.1", port=8080, keys_dir=tmp_path)
    assert "918273" not in conf.read_text()


def test_percent_signs_in_paths_survive_supervisords_expansion(data_dir: Path) -> None:
    odd = data_dir / "100%"
    text = render_config(odd, [Program("x", ["echo", str(odd)])])
    expanding = configparser.ConfigParser()  # % interpolation, as supervisord does it
    expanding.read_string(text)
    assert expanding["program:x"]["command"] == f"echo {odd}"
    assert expanding["unix_http_server"]["file"] == str(odd / "run" / "supervisor.sock")


def test_a_data_dir_too_long_for_a_socket_is_refused_clearly() -> None:
    with pytest.raises(PhsError) as refused:
        render_config(Path("/" + "d" * 120), [])
    assert refused.value.code == "invalid"
    assert "too long" in refused.value.message_en


# --- supervisord for real --------------------------------------------------------------


def rpc(data_dir: Path) -> Any:
    transport = SupervisorTransport(serverurl=f"unix://{supervisor_socket(data_dir)}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def wait_running(data_dir: Path, names: set[str], timeout: float = 20.0) -> dict[str, int]:
    """Poll supervisord's XML-RPC socket until every program is RUNNING; their pids."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            infos = rpc(data_dir).supervisor.getAllProcessInfo()
        except (OSError, xmlrpc.client.Fault) as exc:
            last = exc
        else:
            last = infos
            running = {i["name"]: i["pid"] for i in infos if i["statename"] == "RUNNING"}
            if set(running) == names:
                return running
        time.sleep(0.2)
    raise AssertionError(f"programs never all RUNNING: {last}")


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    # An exited child nobody reaped yet (no init in a container) is gone in every sense.
    return "\nState:\tZ" in state


def test_ctrl_c_stops_supervisord_and_every_program(data_dir: Path, tmp_path: Path) -> None:
    programs = [
        Program("devices", [sys.executable, "-m", "appliance.devices.program", "--data", str(data_dir)]),
        Program("sync", [sys.executable, "-m", "appliance.sync.program", "--data", str(data_dir)]),
    ]
    (data_dir / "run").mkdir()
    conf = data_dir / "run" / "supervisord.conf"
    conf.write_text(render_config(data_dir, programs))
    out, err = (tmp_path / "out.log").open("wb"), (tmp_path / "err.log").open("wb")
    # `phs up` in miniature: run_supervisord in its own process, Ctrl-C sent to that process.
    wrapper = subprocess.Popen(
        [sys.executable, "-c", "import sys; from appliance.supervise import run_supervisord; "
         "sys.exit(run_supervisord(sys.argv[1]))", str(conf)],
        stdout=out,
        stderr=err,
        env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)),
        cwd=ROOT,
    )
    try:
        pids = wait_running(data_dir, {"devices", "sync"})
        supervisord_pid = rpc(data_dir).supervisor.getPID()
        wrapper.send_signal(signal.SIGINT)
        started = time.monotonic()
        assert wrapper.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
        deadline = time.monotonic() + 2
        while not all(gone(p) for p in [*pids.values(), supervisord_pid]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(gone(p) for p in pids.values()), pids
        assert gone(supervisord_pid)
    finally:
        if wrapper.poll() is None:
            wrapper.kill()
            wrapper.wait()
        out.close()
        err.close()
    logs = (tmp_path / "err.log").read_text()
    # The programs' JSON lines reach supervisord's own stderr, as a terminal would show them.
    assert '"msg": "devices ready"' in logs
    assert '"msg": "sync waiting for archives"' in logs
    assert '"msg": "devices stopped"' in logs
    assert '"msg": "sync stopped"' in logs
