"""The Litestar application: one ``create_app()``; nothing runs at import time."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Response, get
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from appliance import __version__
from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.web.auth import PUBLIC, permission_guard
from appliance.web.controllers import checkin as checkin_routes
from appliance.web.controllers import devices as device_routes
from appliance.web.controllers import (
    doc_extras,
    documents,
    groups,
    journal,
    live,
    polls,
    provisioning,
    session,
    sitting,
)
from appliance.web.controllers import floor as floor_routes
from appliance.web.controllers import hardware as hardware_routes
from appliance.web.controllers import minutes as minutes_routes
from appliance.web.controllers import public as public_routes
from appliance.web.controllers import seating as seating_routes
from appliance.web.demo import announce
from appliance.web.errors import (
    http_error_response,
    internal_error_response,
    phs_error_response,
    recursion_error_response,
)
from appliance.web.fast_pages import install as install_fast_pages
from appliance.web.hall import install as install_hall
from appliance.web.limits import hsts_middleware
from appliance.web.locked import locked_middleware
from appliance.web.plain_http import plain_http_gate
from appliance.web.service import Appliance

WEB_UI = Path(__file__).resolve().parents[2] / "web_ui"
if not WEB_UI.is_dir():  # installed from a wheel: the box keeps web_ui beside the venv (releases/<v>/web_ui)
    WEB_UI = Path(sys.prefix).parent / "web_ui"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Plain HTTP from the room network gets only the pairing start page (web/plain_http.py);
# a box without its key stick answers "locked". The page-image fast path wraps the same list.
MIDDLEWARE = [hsts_middleware, plain_http_gate, locked_middleware]


@get("/", opt={"permission": PUBLIC}, include_in_schema=False)
async def root() -> Redirect:
    """The start page."""
    return Redirect("/ui/")


ROUTES: list[Any] = [
    root,
    session.health,
    session.pair,
    session.me,
    session.state_view,
    session.setup,
    session.participants,
    session.add_participants,
    session.add_item,
    session.pairing_code,
    sitting.open_sitting,
    sitting.close_sitting,
    sitting.check_in,
    sitting.check_out,
    sitting.check_in_for,
    sitting.check_out_for,
    sitting.start_item,
    sitting.request_floor,
    sitting.withdraw_floor,
    sitting.grant_floor,
    sitting.end_floor,
    polls.open_poll,
    polls.read_poll,
    polls.vote,
    polls.close_poll,
    *polls.LIFECYCLE_ROUTES,
    documents.list_documents,
    documents.read_document,
    documents.page_image,
    documents.upload_document,
    *doc_extras.ROUTES,
    journal.verify,
    live.live,
    *floor_routes.ROUTES,
    *hardware_routes.ROUTES,
    *groups.ROUTES,
    *provisioning.ROUTES,
    *minutes_routes.ROUTES,
    *seating_routes.ROUTES,  # issue 5: import, seating plan, custom roles, PINs
    *checkin_routes.ROUTES,
    *public_routes.ROUTES,
    *device_routes.ROUTES,
]


async def _security_headers(response: Response[Any]) -> Response[Any]:
    # async: Litestar runs a synchronous after_request hook in a worker thread, a hop on
    # every request (every page image a tablet fetches) for a few dictionary writes.
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def base_urls(settings: Settings) -> list[str]:
    """The URLs people should open: the bound address, or every interface for 0.0.0.0."""
    if settings.host in ("0.0.0.0", "::"):
        from appliance.network.interfaces import server_addresses

        hosts = server_addresses() or ["127.0.0.1"]
    else:
        hosts = [settings.host]
    return [f"http://{h}:{settings.port}" for h in hosts]


def create_app(settings: Settings | None = None, appliance: Appliance | None = None) -> Litestar:
    """Build the app around one ``Appliance`` (the single writer of the data directory)."""
    settings = settings or Settings.from_env()
    appliance = appliance or Appliance(settings)
    install_hall(appliance)  # the floor timer and the hardware board hear every change

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.appliance = appliance
        await appliance.start()
        announce(appliance, base_urls(settings))
        try:
            yield
        finally:
            await appliance.stop()

    static = create_static_files_router(
        path="/ui",
        directories=[WEB_UI],
        html_mode=True,
        opt={"permission": PUBLIC},
        include_in_schema=False,
        # Revalidate every load: after a software update a tablet runs the new UI on its next reload.
        cache_control=CacheControlHeader(no_cache=True),
    )
    app = Litestar(
        route_handlers=[*ROUTES, static],
        guards=[permission_guard],
        middleware=MIDDLEWARE,
        lifespan=[lifespan],
        exception_handlers={
            PhsError: phs_error_response,
            HTTPException: http_error_response,
            RecursionError: recursion_error_response,
            Exception: internal_error_response,
        },
        after_request=_security_headers,
        openapi_config=OpenAPIConfig(title="PHS — Phòng họp số", version=__version__, path="/api/schema"),
        response_cache_config=ResponseCacheConfig(),
        request_max_body_size=1024 * 1024,
        debug=False,
        logging_config=None,
    )
    install_fast_pages(app, MIDDLEWARE)  # the tablets' page images, ahead of the router
    return app
