"""The runner's own appliance: the real ``phs serve`` process on a loopback port.

A rehearsal must exercise what the room will run, so this is the real server in its
own process, not an in-process fake. ``restart`` stops it the way a power cut or a
supervisor restart would (SIGKILL or SIGTERM) and starts it again on the same data
and keys; paired devices must keep working afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import secrets
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
PR_SET_PDEATHSIG = 1


class ServerError(Exception):
    """The appliance did not start (or restart); the message carries its stderr tail."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalAppliance:
    """Starts, restarts and stops one ``phs serve`` process."""

    def __init__(self, data_dir: Path, keys_dir: Path, logs_dir: Path) -> None:
        self.data_dir = data_dir
        self.keys_dir = keys_dir
        self.logs_dir = logs_dir
        self.port = free_port()
        self.setup_code = f"{secrets.randbelow(10**6):06d}"
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._proc: asyncio.subprocess.Process | None = None
        self._starts = 0

    def command(self) -> list[str]:
        """The exact command line, as the brief fixes it."""
        return [
            sys.executable,
            "-m",
            "appliance.cli",
            "serve",
            "--data",
            str(self.data_dir),
            "--keys",
            str(self.keys_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--setup-code",
            self.setup_code,
        ]

    @property
    def stderr_path(self) -> Path:
        """Where this start's stderr goes (one file per start, kept for the report)."""
        return self.logs_dir / f"server-{self._starts}.stderr"

    async def start(self) -> None:
        """Start the process and wait until ``/api/health`` answers."""
        self._starts += 1
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p
        )
        with (
            self.stderr_path.open("wb") as err,
            (self.logs_dir / f"server-{self._starts}.stdout").open("wb") as out,
        ):
            self._proc = await asyncio.create_subprocess_exec(
                *self.command(),
                stdout=out,
                stderr=err,
                stdin=asyncio.subprocess.DEVNULL,
                env=env,
                cwd=str(REPO_ROOT),
                preexec_fn=_die_with_parent,
            )
        await self._wait_healthy()

    async def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        async with httpx.AsyncClient(
            base_url=self.base_url, timeout=2.0, trust_env=False
        ) as client:
            while time.monotonic() < deadline:
                if self._proc is not None and self._proc.returncode is not None:
                    raise ServerError(
                        f"the appliance exited with status {self._proc.returncode} while "
                        f"starting:\n{self.stderr_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get("/api/health")
                    if response.status_code == 200:
                        return
                await asyncio.sleep(0.1)
        await self.stop(hard=True)
        raise ServerError(
            f"the appliance did not answer {self.base_url}/api/health within "
            f"{HEALTH_TIMEOUT_S:.0f} s:\n{self.stderr_tail()}"
        )

    async def stop(self, hard: bool = False) -> None:
        """SIGKILL when ``hard``; otherwise SIGTERM, then SIGKILL after a grace period."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def restart(self, hard: bool) -> None:
        """Stop (kill -9 when ``hard``) and start again on the same data and keys."""
        await self.stop(hard=hard)
        await self.start()

    def stderr_tail(self, lines: int = 25) -> str:
        """The last lines the server wrote to stderr, for a failure message."""
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no stderr)"
        return "\n".join(text.splitlines()[-lines:]) or "(stderr is empty)"

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self._proc is not None and self._proc.returncode is None


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the runner dies, so a killed run leaves no server."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def make_dirs(data: Path | None) -> tuple[Path, Path, Path, tempfile.TemporaryDirectory[str]]:
    """Data, keys and logs directories; keys never inside the data directory."""
    scratch = tempfile.TemporaryDirectory(prefix="phs-scenario-")
    root = Path(scratch.name)
    if data is None:
        data_dir, keys_dir = root / "data", root / "keys"
        data_dir.mkdir()
    else:
        data_dir = data.resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        keys_dir = data_dir.with_name(data_dir.name + "-keys")
    keys_dir.mkdir(parents=True, exist_ok=True)
    logs_dir = root / "logs"
    logs_dir.mkdir()
    return data_dir, keys_dir, logs_dir, scratch
