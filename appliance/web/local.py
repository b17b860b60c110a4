"""The local API's listener: the same app on DATA/run/local.sock, for `phs devices` and `phs sync`.

Requests that arrive here carry a scope marker the permission guard checks for routes
declaring ``local``; a TCP request cannot set it. The socket file is created mode 0600
in the data directory's run/ folder (0700), so only the appliance's own user reaches it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import uvicorn

from appliance.devices.local_api import local_socket_path

log = logging.getLogger("phs.local")

SCOPE_KEY = "phs_local"
MAX_SOCKET_PATH = 107  # sun_path holds 108 bytes with the NUL


class LocalOnly:
    """ASGI wrapper marking every request as local (only ever bound to the unix socket)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Mark HTTP requests local; the lifespan belongs to the TCP server."""
        if scope["type"] == "lifespan":
            return
        scope[SCOPE_KEY] = True
        await self.app(scope, receive, send)


def is_local(scope: Any) -> bool:
    """Whether a request came over the local socket."""
    return bool(scope.get(SCOPE_KEY) is True)


def socket_for(data_dir: Path) -> Path | None:
    """Where to listen, or None (logged) when the path is too long for a unix socket."""
    path = local_socket_path(data_dir)
    if len(os.fsencode(str(path))) > MAX_SOCKET_PATH:
        log.warning("data directory path too long for the local socket; local API off", extra={"path": str(path)})
        return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() or path.is_symlink():
        path.unlink()  # a stale socket from a killed server; the writer lock says we own the dir
    return path


class _LocalServer(uvicorn.Server):
    """The socket's server: the TCP server owns the signals and the app's lifespan."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave SIGTERM/SIGINT to the TCP server, which stops this one first."""
        yield


async def _release_long_polls(app: Any) -> None:
    """Answer `phs devices`' waiting plan request now: uvicorn would cancel it after its
    graceful-shutdown timeout and log the cancellation as an error on every Ctrl-C."""
    appliance = getattr(getattr(app, "state", None), "appliance", None)
    if appliance is None:
        return
    from appliance.web.hall import board_of

    with contextlib.suppress(Exception):  # a box that never finished starting has no board
        await board_of(appliance).release()


def run_with_local(server: uvicorn.Server, app: Any, data_dir: Path, extra: tuple[uvicorn.Server, ...] = ()) -> None:
    """Run the TCP server and, once it has started (and holds the data directory), the local
    socket and any ``extra`` listeners (HTTPS: appliance/web/tls_server.py)."""
    asyncio.run(_both(server, app, data_dir, extra))


async def _both(server: uvicorn.Server, app: Any, data_dir: Path, extra: tuple[uvicorn.Server, ...] = ()) -> None:
    main = asyncio.create_task(server.serve())
    while not server.started and not main.done():
        await asyncio.sleep(0.02)
    extra_tasks = [asyncio.create_task(x.serve()) for x in extra] if server.started else []
    if extra_tasks:
        original_main = server.shutdown

        async def stop_extra(sockets: Any = None) -> None:
            for x in extra:
                x.should_exit = True
            await asyncio.gather(*extra_tasks, return_exceptions=True)
            await original_main(sockets)

        setattr(server, "shutdown", stop_extra)  # noqa: B010 - wrap the instance's method
    path = socket_for(data_dir) if server.started else None
    if path is None:
        await main
        return
    config = uvicorn.Config(
        LocalOnly(app), uds=str(path), lifespan="off", log_config=None, access_log=False, timeout_graceful_shutdown=2
    )
    local = _LocalServer(config)
    local_task = asyncio.create_task(local.serve())
    original = server.shutdown

    async def shutdown(sockets: Any = None) -> None:
        local.should_exit = True  # stop taking hardware events before the appliance stops
        await _release_long_polls(app)
        await local_task
        # uvicorn re-raises SIGTERM once serve() returns, so no code after it runs: remove
        # the socket here. A stale file would only break copies of the data directory.
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        await original(sockets)

    setattr(server, "shutdown", shutdown)  # noqa: B010 - wrap the instance's method
    while not local.started and not local_task.done():
        await asyncio.sleep(0.02)
    if path.exists():
        os.chmod(path, 0o600)
        log.info("local API listening", extra={"socket": str(path)})
    await main
    if not local_task.done():
        local.should_exit = True
        await local_task
