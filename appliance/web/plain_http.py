"""Plain HTTP on the room network: only the pairing start page and the CA certificate.

With HTTPS on, a tablet's first contact is ``http://phs.local``: it has not installed the
box's CA yet, so that page and the CA download must answer in plain HTTP. Everything
else is redirected to HTTPS (a credential never travels in the clear), and a plain
WebSocket is refused. Loopback is exempt (the hall display's kiosk runs on the box) and
so is the local socket of ``phs devices``.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from appliance.web.local import is_local
from appliance.web.tls import BOX_NAME, tls_wanted

START_PAGE = "/ui/pair.html"
# What a tablet without the CA needs: the start page, its script and style, the CA itself.
PLAIN_PATHS = frozenset(
    {
        START_PAGE,
        "/ui/pair.js",
        "/ui/pair.css",
        "/ui/style.css",
        "/api/tls/ca.pem",
        "/api/tls/info",
        "/api/health",
    }
)
_HOST = re.compile(r"^(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}$|^\[[0-9A-Fa-f:.]{2,45}\]$")


def _loopback(scope: dict[str, Any]) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        return ipaddress.ip_address(str(client[0])).is_loopback
    except ValueError:
        return False


def _host(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"host":
            text = value.decode("latin-1")
            host = (
                text.rsplit(":", 1)[0] if not text.endswith("]") and text.count(":") == 1 else text
            )
            if text.startswith("[") and "]:" in text:
                host = text.split("]:", 1)[0] + "]"
            return host if _HOST.match(host) else BOX_NAME
    return BOX_NAME


def https_location(scope: dict[str, Any], port: int) -> str:
    """The same URL over HTTPS on the box's TLS port."""
    path = str(scope.get("path", "/")) or "/"
    raw = scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        path = raw.decode("latin-1").split("?", 1)[0]
    query = scope.get("query_string", b"").decode("latin-1")
    suffix = "" if port == 443 else f":{port}"
    return f"https://{_host(scope)}{suffix}{path}" + (f"?{query}" if query else "")


def plain_http_gate(app: Any) -> Any:
    """ASGI middleware: over plain HTTP from the network, answer only the start page set."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            send = _with_session_cookie(scope, send)
        if scope["type"] not in ("http", "websocket") or scope.get("scheme") in ("https", "wss"):
            await app(scope, receive, send)
            return
        state = getattr(scope.get("app"), "state", None)
        appliance = getattr(state, "appliance", None) if state is not None else None
        if (
            appliance is None
            or not tls_wanted(appliance.settings)
            or _loopback(scope)
            or is_local(scope)
        ):
            await app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path in PLAIN_PATHS:
            await app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # policy: use wss://
            return
        location = (
            START_PAGE
            if path in ("/", "/ui", "/ui/") and not scope.get("query_string")
            else https_location(scope, appliance.settings.tls_port)
        )
        await send(
            {
                "type": "http.response.start",
                "status": 308 if scope.get("method") not in ("GET", "HEAD") else 302,
                "headers": [
                    (b"location", location.encode("latin-1")),
                    (b"content-length", b"0"),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return middleware


def _with_session_cookie(scope: dict[str, Any], send: Any) -> Any:
    """Add the device session cookie a signed request earned (web/trust.py) to the response."""
    from appliance.web.trust import SET_COOKIE_STATE

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            cookie = (scope.get("state") or {}).get(SET_COOKIE_STATE)
            if cookie:
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"set-cookie", cookie.encode("latin-1")),
                    ],
                }
        await send(message)

    return sending
