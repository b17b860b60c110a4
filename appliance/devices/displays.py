"""Hall displays: one kiosk browser per connected output, showing the view assigned to it.

The kernel tells us about display connectors under ``/sys/class/drm``: one directory per
connector (``card0-HDMI-A-1``) with a ``status`` file reading ``connected`` or
``disconnected``. udev sends a ``drm`` "change" event when a cable goes in or out; we
then read every status again (the event names the card, not the connector). Without
udev the devices program rescans every few seconds, which tells the same story.

For each connected output the ``KioskSupervisor`` keeps one browser running with the view
the technician assigned on the technician screen (hall, seating or speaker; hall until
told otherwise); it restarts a browser that died, stops the one of an output that was
unplugged, and restarts it when the view changes. How a browser is started is a command
template (setting ``kiosk_command``) so the box image decides about X, Wayland or cage;
each output gets its own browser profile, so each is paired once as its own display.

Who runs the browsers depends on how `phs devices` runs. Under supervisord (`phs up`, the
box; supervisord puts ``SUPERVISOR_ENABLED`` and ``SUPERVISOR_SERVER_URL`` in its
children's environment) ``SupervisorKiosks`` asks supervisord over its XML-RPC socket: an
output's browser is the program ``kiosk-<connector>``, written to
``DATA/run/kiosks/<connector>.conf`` (which supervisord.conf includes) and added with
``reloadConfig`` + ``addProcessGroup`` + ``startProcess``; unplugging stops it, removes the
group and deletes the file. So the browsers show up in supervisorctl beside web, devices
and sync, supervisord restarts one that crashes, and a restart of `phs devices` does not
orphan them (it clears every ``kiosk-*`` program at its start). Run alone (a developer's
terminal), `phs devices` spawns the browsers itself (``ProcessKiosks``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shlex
import signal
import subprocess
import time
import xmlrpc.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from supervisor.xmlrpc import Faults, SupervisorTransport

log = logging.getLogger(__name__)

DRM_ROOT = Path("/sys/class/drm")
VIEWS = ("hall", "seating", "speaker")
DEFAULT_VIEW = "hall"
RESTART_AFTER_S = 3.0  # a browser that keeps crashing must not spin the CPU


def scan_outputs(root: Path = DRM_ROOT) -> dict[str, bool]:
    """Connector name -> connected, for every display connector the kernel lists."""
    found: dict[str, bool] = {}
    try:
        entries = sorted(root.iterdir())
    except OSError:  # no graphics at all (a headless CI machine)
        return found
    for entry in entries:
        card, sep, connector = entry.name.partition("-")
        if not sep or not card.startswith("card"):
            continue  # card0 itself, renderD128, version
        try:
            status = (entry / "status").read_text(encoding="ascii").strip()
        except OSError:
            continue
        found[connector] = status == "connected"
    return found


def view_url(base: str, view: str, connector: str) -> str:
    """The display page for ``view`` on ``connector`` (the page reads both from its query)."""
    return f"{base.rstrip('/')}/ui/display.html?{urlencode({'view': view, 'output': connector})}"


def kiosk_argv(command: str, url: str, connector: str, profile: Path) -> list[str]:
    """The command for one output; placeholders are filled after splitting, so a URL stays one word."""
    values = {"url": url, "connector": connector, "profile": str(profile)}
    return [part.format(**values) for part in shlex.split(command)]


class Kiosks(Protocol):
    """Starts and stops one browser per output."""

    def start(self, connector: str, url: str) -> None:
        """Start the browser of ``connector`` on ``url``."""

    def stop(self, connector: str) -> None:
        """Stop the browser of ``connector`` (no-op when none runs)."""

    def running(self, connector: str) -> bool:
        """Whether the browser of ``connector`` is still alive."""
        ...


class ProcessKiosks:
    """Browsers as child processes of `phs devices`, one process group each."""

    def __init__(self, command: str, profiles: Path, env: Mapping[str, str] | None = None) -> None:
        self.command = command
        self.profiles = profiles
        self.env = dict(env) if env is not None else None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def argv(self, connector: str, url: str) -> list[str]:
        """The command for one output (``kiosk_argv`` with this output's profile)."""
        return kiosk_argv(self.command, url, connector, self.profiles / connector)

    def start(self, connector: str, url: str) -> None:
        """Spawn the browser in its own session so stopping it takes its helpers too."""
        self.stop(connector)
        (self.profiles / connector).mkdir(parents=True, exist_ok=True, mode=0o700)
        self.procs[connector] = subprocess.Popen(
            self.argv(connector, url), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, env=self.env,
        )

    def stop(self, connector: str) -> None:
        """SIGTERM the browser's process group, SIGKILL after two seconds."""
        proc = self.procs.pop(connector, None)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def running(self, connector: str) -> bool:
        """Alive and not exited."""
        proc = self.procs.get(connector)
        return proc is not None and proc.poll() is None

    def stop_all(self) -> None:
        """Every browser, on the program's stop."""
        for connector in list(self.procs):
            self.stop(connector)


PROGRAM_PREFIX = "kiosk-"
# A supervisord program name also names a file and a log; ':' would read as group:process.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
# supervisord's ini parser cuts a value at " ;" or " #" (inline comments).
_INI_BREAKING = re.compile(r"[\r\n]|\s[;#]")


def safe_connector(connector: str) -> str:
    """``connector`` as a word fit for a program or file name; altered names get a hash, so two never meet."""
    safe = _UNSAFE.sub("_", connector)
    if safe != connector or not safe:
        safe += "-" + hashlib.sha256(connector.encode()).hexdigest()[:8]
    return safe


def program_name(connector: str) -> str:
    """The supervisord program of ``connector``'s browser (``kiosk-HDMI-A-1``)."""
    return PROGRAM_PREFIX + safe_connector(connector)


def _rpc_failure(exc: Exception) -> str:
    if isinstance(exc, xmlrpc.client.Fault):
        return f"fault {exc.faultCode}: {exc.faultString}"
    return f"{type(exc).__name__}: {exc}"


class SupervisorKiosks:
    """Browsers as supervisord programs, one ``[program:kiosk-<connector>]`` each, over XML-RPC."""

    def __init__(self, command: str, profiles: Path, include_dir: Path, serverurl: str) -> None:
        self.command = command
        self.profiles = profiles
        self.include_dir = include_dir
        self.serverurl = serverurl

    def _rpc(self) -> Any:
        # A proxy per call: calls come from the loop and from worker threads, and a slow
        # stopProcess on one must not hold a shared connection the other waits for.
        transport = SupervisorTransport(serverurl=self.serverurl)
        return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor

    def conf_path(self, connector: str) -> Path:
        """The include file of ``connector``'s program."""
        return self.include_dir / f"{safe_connector(connector)}.conf"

    def section(self, connector: str, url: str) -> str:
        """The program section supervisord reads for ``connector``'s browser on ``url``."""
        name = program_name(connector)
        argv = kiosk_argv(self.command, url, connector, self.profiles / safe_connector(connector))
        command = shlex.join(argv)
        if _INI_BREAKING.search(command):
            raise ValueError("kiosk command cannot be written to a supervisord file (newline, ' ;' or ' #')")
        log_file = self.include_dir / f"{name}.log"
        lines = [
            f"; Written by `phs devices` for display output {connector!r}; deleted when it is unplugged.",
            f"[program:{name}]",
            f"command={command}",
            "autostart=false",  # started by startProcess, once the output is connected
            "autorestart=true",
            "startsecs=1",
            "startretries=3",
            "stopsignal=TERM",
            "stopwaitsecs=5",
            # A browser's renderer and GPU helpers go with it.
            "stopasgroup=true",
            "killasgroup=true",
            # Browsers are chatty: their own small rotated file, not the JSON stream.
            "redirect_stderr=true",
            f"stdout_logfile={log_file}",
            "stdout_logfile_maxbytes=1MB",
            "stdout_logfile_backups=1",
        ]
        # supervisord expands %(name)s in every value; a literal % (a URL's escapes) is doubled.
        return "\n".join(line.replace("%", "%%") for line in lines) + "\n"

    def start(self, connector: str, url: str) -> None:
        """Write the program, have supervisord read it, (re)add its group and start it."""
        name = program_name(connector)
        try:
            text = self.section(connector, url)
            (self.profiles / safe_connector(connector)).mkdir(parents=True, exist_ok=True, mode=0o700)
            self.include_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self.conf_path(connector)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            rpc = self._rpc()
            rpc.reloadConfig()
            self._remove(rpc, name)  # an old view's or an exited browser's group
            rpc.addProcessGroup(name)
            rpc.startProcess(name, False)  # RUNNING after startsecs; running() says so then
        except (OSError, ValueError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError) as exc:
            extra = {"connector": connector, "program": name, "error": _rpc_failure(exc)}
            if isinstance(exc, xmlrpc.client.Fault) and exc.faultCode == Faults.BAD_NAME:
                extra["hint"] = f"supervisord.conf must include {self.include_dir}/*.conf"
            log.error("kiosk not started", extra=extra)

    def _remove(self, rpc: Any, name: str) -> None:
        """Stop ``name`` and drop its group; absent or already stopped is fine."""
        try:
            rpc.stopProcess(name, True)
        except xmlrpc.client.Fault as exc:
            if exc.faultCode == Faults.BAD_NAME:
                return  # never added
            if exc.faultCode != Faults.NOT_RUNNING:
                raise
        rpc.removeProcessGroup(name)

    def stop(self, connector: str) -> None:
        """Stop the program, remove its group and delete its file."""
        name = program_name(connector)
        try:
            self._remove(self._rpc(), name)
        except xmlrpc.client.Fault as exc:
            # While supervisord shuts down it refuses every call, and stops the kiosks itself.
            level = logging.INFO if exc.faultCode == Faults.SHUTDOWN_STATE else logging.ERROR
            log.log(level, "kiosk not stopped by us", extra={"connector": connector, "program": name,
                                                             "error": _rpc_failure(exc)})
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            log.error("kiosk not stopped by us", extra={"connector": connector, "program": name,
                                                        "error": _rpc_failure(exc)})
        with contextlib.suppress(FileNotFoundError):
            self.conf_path(connector).unlink()

    def running(self, connector: str) -> bool:
        """supervisord reports the program RUNNING (up for its startsecs)."""
        try:
            info = self._rpc().getProcessInfo(program_name(connector))
        except xmlrpc.client.Fault:
            return False  # no such program (any more)
        except (OSError, xmlrpc.client.ProtocolError) as exc:
            log.debug("kiosk state unknown", extra={"connector": connector, "error": _rpc_failure(exc)})
            return False
        return bool(info.get("statename") == "RUNNING")

    def stop_all(self) -> None:
        """Every ``kiosk-*`` program and include file, whoever left them (a previous `phs devices`)."""
        try:
            rpc = self._rpc()
            for group in sorted({i["group"] for i in rpc.getAllProcessInfo() if i["group"].startswith(PROGRAM_PREFIX)}):
                self._remove(rpc, group)
                log.info("stale kiosk removed", extra={"program": group})
        except (OSError, xmlrpc.client.Fault, xmlrpc.client.ProtocolError) as exc:
            log.error("stale kiosks not removed", extra={"error": _rpc_failure(exc)})
        for path in self.include_dir.glob("*.conf"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@dataclass
class Output:
    """What the supervisor knows of one connector."""

    connector: str
    connected: bool = False
    view: str = DEFAULT_VIEW
    url: str | None = None  # what the running browser shows; None: none started
    started_at: float = 0.0


class KioskSupervisor:
    """Keeps the browsers in line with the connectors and the technician's assignments."""

    def __init__(
        self,
        kiosks: Kiosks | None,
        base_url: str,
        *,
        scan: Callable[[], dict[str, bool]] = scan_outputs,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kiosks = kiosks
        self.base_url = base_url
        self.scan = scan
        self.clock = clock
        self.outputs: dict[str, Output] = {}

    def rescan(self) -> None:
        """Read the connectors again and start, stop or restart browsers to match."""
        seen = self.scan()
        for connector, connected in seen.items():
            out = self.outputs.setdefault(connector, Output(connector))
            if connected != out.connected:
                log.info("display output %s", "connected" if connected else "disconnected", extra={"connector": connector})
            out.connected = connected
        for connector in self.outputs.keys() - seen.keys():
            self.outputs[connector].connected = False  # the connector itself went (a dock)
        self._apply()

    def assign(self, assignments: Mapping[str, str]) -> None:
        """The technician's views per connector (unknown views are ignored: hall stays)."""
        for connector, view in assignments.items():
            if view in VIEWS:
                self.outputs.setdefault(connector, Output(connector)).view = view
        self._apply()

    def status(self) -> list[dict[str, object]]:
        """For the server's technician view: every connector, connected or not, and its browser."""
        return [
            {"connector": o.connector, "connected": o.connected, "view": o.view,
             "running": bool(self.kiosks is not None and o.url is not None and self.kiosks.running(o.connector))}
            for o in sorted(self.outputs.values(), key=lambda o: o.connector)
        ]

    def stop(self) -> None:
        """Stop every browser (the program is stopping)."""
        for out in self.outputs.values():
            if out.url is not None and self.kiosks is not None:
                self.kiosks.stop(out.connector)
            out.url = None

    def _apply(self) -> None:
        if self.kiosks is None:
            return  # no kiosk command configured: outputs are reported, nothing is started
        now = self.clock()
        for out in self.outputs.values():
            want = view_url(self.base_url, out.view, out.connector) if out.connected else None
            if want is None:
                if out.url is not None:
                    self.kiosks.stop(out.connector)
                    log.info("kiosk stopped", extra={"connector": out.connector})
                    out.url = None
                continue
            alive = out.url is not None and self.kiosks.running(out.connector)
            if out.url == want and alive:
                continue
            if out.url == want and now - out.started_at < RESTART_AFTER_S:
                continue  # it died right after starting: wait before trying again
            if out.url == want:
                log.warning("kiosk exited, restarting", extra={"connector": out.connector})
            self.kiosks.start(out.connector, want)
            out.url, out.started_at = want, now
            log.info("kiosk started", extra={"connector": out.connector, "view": out.view})
