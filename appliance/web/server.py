"""Running the appliance: ``phs serve`` (uvicorn on a real socket) and ``phs up`` (supervisord)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from appliance.core.settings import Settings
from appliance.web.live_wire import LiveWebSocketProtocol

log = logging.getLogger("phs.server")


def serve(settings: Settings) -> int:
    """Run the web server in the foreground until SIGINT/SIGTERM."""
    from appliance.web.app import create_app
    from appliance.web.locked import preflight

    problem = preflight(settings)
    if problem is not None:  # refuse before anything opens the data directory
        sys.stderr.write(problem)
        return 2
    from appliance.archive.retention import erase_due_at_start

    erase_due_at_start(settings)  # retention needs the data to itself: before the server opens it
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        ws=LiveWebSocketProtocol,  # websockets-sansio, plus the live hub's direct writer
        lifespan="on",
        timeout_graceful_shutdown=5,
        ws_max_size=64 * 1024,  # live-channel messages are tiny; a 5 MB frame is an attack
    )
    server = uvicorn.Server(config)
    from appliance.web.local import run_with_local

    extra: tuple[uvicorn.Server, ...] = ()
    from appliance.web.tls import tls_wanted

    if tls_wanted(settings):  # the box's own CA and an HTTPS listener (appliance/web/tls.py)
        from appliance.web.tls_server import https_server

        extra = (https_server(app, settings),)
    from appliance.network.mdns import advertise_in_background, mdns_wanted

    if mdns_wanted(settings.mdns, settings.host):
        from appliance.web.tls import interface_addresses

        port = settings.tls_port if extra else settings.port
        advertise_in_background(interface_addresses(), port, https=bool(extra))
    run_with_local(server, app, settings.data_dir, extra)  # TCP, then DATA/run/local.sock (and HTTPS)
    return 0 if server.started else 1


def up(settings: Settings) -> int:
    """Write the supervisord configuration into the data directory and run it in the foreground."""
    from appliance.supervise import up as supervise_up

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return supervise_up(settings)
