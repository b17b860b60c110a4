"""The HTTPS listener: the same app on the TLS port, and the watcher that reissues the
server certificate when the box's addresses change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from typing import Any

import uvicorn

from appliance.core.settings import Settings
from appliance.web.live_wire import LiveWebSocketProtocol
from appliance.web.tls import ensure, reload, server_context, tls_files

log = logging.getLogger("phs.tls")

WATCH_S = 30.0  # how often the interface addresses are compared with the certificate's


class HttpsServer(uvicorn.Server):
    """The TLS listener: the plain HTTP server owns the signals and the app's lifespan."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self.settings = settings
        self.files = tls_files(settings.data_dir)
        self.context = server_context(self.files)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Leave SIGTERM/SIGINT to the main server, which stops this one."""
        yield

    async def serve(self, sockets: Any = None) -> None:
        """Serve TLS and watch the addresses until told to exit."""
        watcher = asyncio.create_task(self._watch())
        try:
            await super().serve(sockets)
        finally:
            watcher.cancel()

    async def _watch(self) -> None:
        while not self.should_exit:
            await asyncio.sleep(WATCH_S)
            try:
                if await asyncio.to_thread(ensure, self.settings.data_dir):
                    reload(self.context, self.files)
                    log.info("server certificate reloaded: the addresses changed")
            except (OSError, ValueError) as err:
                log.warning(
                    "could not reissue the server certificate", extra={"error": type(err).__name__}
                )


def https_server(app: Any, settings: Settings) -> HttpsServer:
    """Make sure the CA and certificate exist, then build the TLS listener on ``tls_port``."""
    ensure(settings.data_dir)
    files = tls_files(settings.data_dir)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.tls_port,
        ssl_certfile=str(files.server_cert),
        ssl_keyfile=str(files.server_key),
        log_config=None,
        access_log=False,
        ws=LiveWebSocketProtocol,  # as on plain HTTP: the live hub's direct writer (appliance/web/live_wire.py)
        lifespan="off",
        timeout_graceful_shutdown=5,
        ws_max_size=64 * 1024,
    )
    server = HttpsServer(config, settings)
    config.load()
    config.ssl = (
        server.context
    )  # one context object, so a reissued certificate can be loaded into it
    return server
