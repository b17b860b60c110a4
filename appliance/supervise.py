"""`phs up`: the box's process topology (web, devices, sync) under supervisord.

We write the configuration for this machine into DATA_DIR/run/ and run supervisord in
the foreground, so a developer's laptop runs the same topology as the box and a
terminal shows every program's JSON log lines. Ctrl-C stops everything.

The configuration has supervisord's XML-RPC interface on a unix socket (DATA_DIR/run/
supervisor.sock, for supervisorctl and for `phs devices`) and includes
DATA_DIR/run/kiosks/*.conf: `phs devices` writes one kiosk browser program there per
connected display output and adds it to the running supervisord (appliance.devices.displays).
"""

from __future__ import annotations

import os
import pwd
import shlex
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from appliance.core.errors import refuse
from appliance.core.settings import Settings

RUN_DIR = "run"
CONF_NAME = "supervisord.conf"
SOCKET_NAME = "supervisor.sock"
# `phs devices` writes the kiosk programs here; relative to the conf file (in RUN_DIR), so a
# data directory whose path holds a space or a glob character is still included whole.
KIOSKS_NAME = "kiosks"
KIOSK_INCLUDE = f"{KIOSKS_NAME}/*.conf"
# sun_path is 108 bytes on Linux; supervisord's own error for a longer one is cryptic.
MAX_SOCKET_PATH = 100
# Where `python -m appliance...` finds this very package, installed or not.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Program:
    """One supervised program."""

    name: str
    command: Sequence[str]
    # Seconds a program must stay up to count as started; quicker exits are retried.
    startsecs: int = 1
    # Seconds between SIGTERM and SIGKILL. The web server flushes the journal on stop.
    stopwaitsecs: int = 5


def run_dir(data_dir: Path) -> Path:
    """Where supervisord keeps its socket, pid file and own log."""
    return data_dir / RUN_DIR


def supervisor_socket(data_dir: Path) -> Path:
    """supervisord's control socket (supervisorctl, XML-RPC)."""
    return run_dir(data_dir) / SOCKET_NAME


def kiosk_programs_dir(data_dir: Path) -> Path:
    """Where `phs devices` writes one ``[program:kiosk-<connector>]`` file per connected output."""
    return run_dir(data_dir) / KIOSKS_NAME


def phs_command(*args: str) -> list[str]:
    """`phs ARGS` through this interpreter, so the venv need not be on PATH."""
    return [sys.executable, "-m", "appliance.cli", *args]


def standard_programs(
    data_dir: Path, *, demo: bool, host: str, port: int, keys_dir: Path
) -> list[Program]:
    """web, devices and sync as the box runs them."""
    serve = ["serve", "--data", str(data_dir), "--keys", str(keys_dir), "--host", host, "--port", str(port)]
    if demo:
        serve.append("--demo")
    return [
        Program("web", phs_command(*serve), startsecs=3, stopwaitsecs=15),
        # The demo's 30 delegates get simulated units that follow the floor (technician screen).
        Program("devices", phs_command("devices", "--data", str(data_dir), *(["--seats", "30"] if demo else []))),
        Program("sync", phs_command("sync", "--data", str(data_dir))),
    ]


def _value(text: str) -> str:
    # supervisord expands %(name)s in every value; a literal % must be doubled.
    return text.replace("%", "%%")


def _quoted(text: str) -> str:
    return '"' + _value(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(
    data_dir: Path,
    programs: Sequence[Program],
    *,
    log_level: str = "info",
    environment: Mapping[str, str] | None = None,
) -> str:
    """The text of a supervisord.conf running ``programs`` with state under DATA_DIR/run/."""
    run = run_dir(data_dir)
    sock = supervisor_socket(data_dir)
    if len(str(sock)) > MAX_SOCKET_PATH:
        raise refuse(
            "invalid",
            f"Đường dẫn thư mục dữ liệu quá dài cho socket điều khiển ({len(str(sock))} ký tự).",
            f"The data directory path is too long for the control socket ({len(str(sock))} characters).",
            path=str(sock),
        )
    python_path = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), os.environ.get("PYTHONPATH")]))
    env = {"PYTHONUNBUFFERED": "1", "PYTHONPATH": python_path, **(environment or {})}
    env_line = ",".join(f"{key}={_quoted(value)}" for key, value in env.items())
    user = pwd.getpwuid(os.geteuid()).pw_name
    lines = [
        "; Written by `phs up`; rewritten on every start, edits are lost.",
        "[unix_http_server]",
        f"file={_value(str(sock))}",
        "chmod=0700",
        "",
        "[supervisord]",
        "nodaemon=true",
        # Naming the user we already are silences supervisord's warning when run as root.
        f"user={_value(user)}",
        f"pidfile={_value(str(run / 'supervisord.pid'))}",
        f"logfile={_value(str(run / 'supervisord.log'))}",
        "logfile_maxbytes=1MB",
        "logfile_backups=2",
        f"childlogdir={_value(str(run))}",
        f"loglevel={_value(log_level.lower())}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_value(str(sock))}",
        "",
        "[include]",
        f"files={KIOSK_INCLUDE}",
    ]
    for program in programs:
        lines += [
            "",
            f"[program:{program.name}]",
            f"command={_value(shlex.join(program.command))}",
            f"directory={_value(str(data_dir))}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={program.startsecs}",
            "startretries=3",
            "stopsignal=TERM",
            f"stopwaitsecs={program.stopwaitsecs}",
            # A stuck program's helpers (a render pool) must not outlive it after SIGKILL.
            "killasgroup=true",
            # Straight to supervisord's own stdout/stderr: a terminal shows the JSON lines
            # and the box's journald collects them; no rotation of a pipe.
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            "stderr_logfile=/dev/stderr",
            "stderr_logfile_maxbytes=0",
            f"environment={env_line}",
        ]
    return "\n".join(lines) + "\n"


def write_config(
    settings: Settings, data_dir: Path, *, demo: bool, host: str, port: int, keys_dir: Path
) -> Path:
    """Write DATA_DIR/run/supervisord.conf for web, devices and sync; returns its path.

    Secrets (a setup code) are not written: they reach the programs through the
    environment supervisord inherits, see ``run_supervisord``.
    """
    run = run_dir(data_dir)
    run.mkdir(parents=True, exist_ok=True, mode=0o700)
    kiosks = kiosk_programs_dir(data_dir)
    kiosks.mkdir(exist_ok=True, mode=0o700)
    for stale in kiosks.glob("*.conf"):  # a previous run's outputs; `phs devices` writes its own
        stale.unlink()
    programs = standard_programs(data_dir, demo=demo, host=host, port=port, keys_dir=keys_dir)
    level = settings.log_level
    text = render_config(data_dir, programs, log_level=level, environment={"PHS_LOG_LEVEL": level})
    conf = run / CONF_NAME
    tmp = conf.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(conf)
    return conf


def run_supervisord(conf_path: Path, env: Mapping[str, str] | None = None) -> int:
    """Run supervisord in the foreground until it exits; returns its exit status.

    supervisord runs in its own session so a terminal's Ctrl-C reaches it exactly once,
    from us: SIGINT and SIGTERM are forwarded as they are, SIGHUP (terminal closed) as
    SIGTERM because supervisord would take SIGHUP as "reload".
    """
    command = [sys.executable, "-m", "supervisor.supervisord", "-n", "-c", str(conf_path)]
    child_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(command, start_new_session=True, env=child_env)

    def forward(signum: int, frame: FrameType | None) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc.poll() is None:  # we are leaving on an error: do not orphan the programs
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def up(settings: Settings) -> int:
    """`phs up`: write the configuration from ``settings`` and run every program."""
    conf = write_config(
        settings,
        settings.data_dir,
        demo=settings.demo,
        host=settings.host,
        port=settings.port,
        keys_dir=settings.keys_dir,
    )
    env = {Settings.env_name("setup_code"): settings.setup_code} if settings.setup_code else None
    return run_supervisord(conf, env)
