"""Who is asking: credentials from the cookie or a Bearer header, and the permission guard.

Every route handler declares ``opt={"permission": NAME}``; the guard refuses a handler
without one, so a new route cannot ship unprotected (tests walk the route table too).
"""

from __future__ import annotations

import json
from typing import Any

from litestar import WebSocket
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketException
from litestar.handlers import BaseRouteHandler

from appliance.core.errors import PhsError, refuse
from appliance.meeting.roles import Actor

COOKIE = "phs_token"
PUBLIC = "public"
LOCAL = "local"  # routes for `phs devices` / `phs sync` over DATA/run/local.sock only
LOCAL_ACTOR = Actor("local", "local", frozenset({"local"}))
SCHEMA_PATH = "/api/schema"


def token_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The credential a request carries."""
    header = connection.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    # Never from the query string: URLs end up in histories and logs.
    return connection.cookies.get(COOKIE) or None


async def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Resolve the actor and check the handler's declared permission.

    A WebSocket refused here closes with 4000 + the refusal's HTTP status and its code as
    the reason (``not_paired`` → 4401), not Litestar's bare 4500. A handshake closed before
    it is accepted reaches a browser as a failed connection it would retry for ever, so an
    unpaired device's socket is accepted first and told ``not_paired`` (``web_ui/live.js``
    then sends it to the pairing page); a revoked one was told when it was revoked.
    The check runs on the event loop: it is a few keyed hashes over in-memory state, cheaper
    than the hop to a worker thread it once took (on every page image a tablet fetches), and
    it reads the state the loop writes without racing it."""
    try:
        _check(connection, handler)
    except PhsError as err:
        if not isinstance(connection, WebSocket):
            raise
        if err.code == "not_paired":
            await connection.accept()
            await connection.send_text(json.dumps({"type": "error", **err.to_dict()}, ensure_ascii=False))
        raise WebSocketException(detail=err.code, code=4000 + err.status) from err


def _check(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    permission = handler.opt.get("permission")
    if permission is None and connection.scope["path"].startswith(SCHEMA_PATH):
        permission = PUBLIC  # the published OpenAPI document
    if permission is None:
        raise refuse("forbidden", message_en="route declares no permission")
    if permission == PUBLIC:
        return
    if permission == LOCAL:
        from appliance.web.local import is_local

        if not is_local(connection.scope):  # only `phs devices` on the unix socket, never TCP
            raise refuse("forbidden", message_en="this route answers only on the local socket")
        connection.scope["state"]["actor"] = LOCAL_ACTOR
        connection.scope["state"]["device"] = "local"
        return
    appliance = connection.app.state.appliance
    device, actor = appliance.authenticate(token_of(connection))
    appliance.trust.check_request(connection, device)  # last contact; a keyed device proves its key
    connection.scope["state"]["actor"] = actor
    connection.scope["state"]["device"] = device
    if not actor.can(permission):
        raise refuse("forbidden")


def actor_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The actor the guard resolved."""
    actor: Actor = connection.scope["state"]["actor"]
    return actor


def device_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The device id the guard resolved."""
    return str(connection.scope["state"]["device"])
