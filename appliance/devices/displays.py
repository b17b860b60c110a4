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
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

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
        """The command for one output; placeholders are filled after splitting, so a URL stays one word."""
        profile = self.profiles / connector
        values = {"url": url, "connector": connector, "profile": str(profile)}
        return [part.format(**values) for part in shlex.split(self.command)]

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
