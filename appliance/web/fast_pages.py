"""Page images answered ahead of Litestar's router: the request a sitting makes most.

Every tablet fetches every page it shows (``<img src>``, and the service worker ahead of
time), so ``GET /api/documents/{id}/pages/{n}`` carries most of the box's traffic. Through
Litestar each of them also paid for routing, the guard's copy of the connection, keyword
parsing and signature validation: about a third of the CPU the box spent on a page
(bench/RESULTS.md, serving). A request of exactly the shape the tablets send (that path,
``GET``, no query or only ``?size=``) is answered here instead, with

- the app's own middleware (``app.MIDDLEWARE``: HSTS, the plain-HTTP gate and its session
  cookie, the locked box) wrapped around it, in the same order;
- the same guard (``permission_guard`` with the route's own declared permission): the
  credential, revocation, the device's key or session cookie, the role's permission;
- the same checks and body (``documents.page_answer``): access level, named readers,
  group, per-viewer watermark, the record of a confidential opening, ETag, Range;
- the app's exception handlers for every refusal.

Nothing about who may see what is decided differently or cached here: every request is
judged against the current state, so a revocation or an access change holds on the very
next request. Everything else, and any variant this does not recognise (HEAD, other query
parameters, odd paths or hosts), goes to Litestar untouched, before anything was looked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from litestar import Litestar
from litestar._parsers import parse_cookie_string
from litestar.datastructures import Address
from litestar.types import ASGIApp

from appliance.web.auth import permission_guard
from appliance.web.controllers.documents import page_answer, page_image, raw_answer

# What the tablets send (web_ui/docs.js, offline.js): an id of letters, digits, "_" or "-".
PAGE_PATH = re.compile(r"/api/documents/([A-Za-z0-9_-]{1,100})/pages/([0-9]{1,6})")
SIZE_QUERY = re.compile(rb"size=([a-z]{1,16})")
# Static segments Litestar routes elsewhere under /api/documents/ (doc_extras.py).
STATIC = frozenset({"search", "uploads", "openings", "present"})
# A subset of what Litestar's router accepts as a Host header; anything else is its to judge.
PLAIN_HOST = re.compile(rb"[0-9A-Za-z.:\[\]-]{0,300}")
PAGE_KEY = "phs_page"  # (document id, page, size) in the scope, for the wrapped handler
DEFAULT_SIZE = "tablet"  # page_image's default
NO_QUERY: Mapping[str, str] = MappingProxyType({})  # page_request admits only ?size=


def install(app: Litestar, middleware: Sequence[Callable[[ASGIApp], ASGIApp]]) -> FastPages:
    """Put the fast path in front of ``app``'s router; ``middleware`` as given to Litestar."""
    fast = FastPages(app, app.asgi_handler, middleware)
    app.asgi_handler = fast
    return fast


def page_request(scope: Any) -> tuple[str, int, str] | None:
    """(document id, page, size) of a tablet's page request this path answers, else None."""
    if scope.get("method") != "GET" or scope.get("root_path"):
        return None
    found = PAGE_PATH.fullmatch(scope["path"])
    if found is None or found[1] in STATIC:
        return None
    size = DEFAULT_SIZE
    query = scope.get("query_string", b"")
    if query:
        given = SIZE_QUERY.fullmatch(query)
        if given is None:
            return None
        size = given[1].decode("ascii")
    for name, value in scope["headers"]:
        if name == b"host" and PLAIN_HOST.fullmatch(value) is None:
            return None
    return found[1], int(found[2]), size


class PageConnection:
    """What the guard and the page checks read of a request, parsed once and cheaply.

    Litestar's ``Request`` builds a case-insensitive multidict of every header on first use
    (about 4 µs, an eighth of the Python time a page costs); these checks only ask a few
    headers by name, the cookies, the client and the app. A header given twice reads as its
    first value, as ``Headers.get`` does; cookies go through Litestar's own parser; the query
    is at most ``size=`` (``page_request``), so there is no ``proof`` in it to read."""

    __slots__ = ("scope", "receive", "send", "app", "headers", "_cookies")

    query_params = NO_QUERY

    def __init__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.app: Litestar = scope["app"]
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        self.headers: Mapping[str, str] = headers
        self._cookies: dict[str, str] | None = None

    @property
    def cookies(self) -> dict[str, str]:
        """The request's cookies, as Litestar parses them."""
        if self._cookies is None:
            raw = self.headers.get("cookie")
            self._cookies = parse_cookie_string(raw) if raw else {}
        return self._cookies

    @property
    def client(self) -> Address | None:
        """The peer's address, as Litestar gives it."""
        client = self.scope.get("client")
        return Address(*client) if client else None


class FastPages:
    """The app's ASGI handler with page images answered first; ``taken`` counts the requests it took."""

    def __init__(self, app: Litestar, router: ASGIApp, middleware: Sequence[Callable[[ASGIApp], ASGIApp]]) -> None:
        self.app = app
        self.router = router  # Litestar's own handler: its exception middleware and router
        handler: ASGIApp = self._answer
        for wrap in reversed(middleware):  # the first listed is the outermost, as in Litestar
            handler = wrap(handler)
        self.handler = handler
        self.taken = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Answer a tablet's page request here; hand everything else to Litestar."""
        wanted = page_request(scope) if scope["type"] == "http" else None
        if wanted is None:
            await self.router(scope, receive, send)
            return
        self.taken += 1
        scope["path_params"] = {"doc_id": wanted[0], "n": wanted[1]}  # as Litestar's router sets them
        scope["route_handler"] = page_image
        scope[PAGE_KEY] = wanted
        await self.handler(scope, receive, send)

    async def _answer(self, scope: Any, receive: Any, send: Any) -> None:
        # Any: the checks take Litestar connections and read only what PageConnection has.
        connection: Any = PageConnection(scope, receive, send)
        doc_id, n, size = scope[PAGE_KEY]
        try:
            await permission_guard(connection, page_image)
            status, headers, body = await page_answer(connection, doc_id, n, size)
        except Exception as exc:  # noqa: BLE001 - every refusal through the app's own handlers
            await self._refuse(scope, receive, send, exc)
            return
        await raw_answer(status, headers, body)(scope, receive, send)

    async def _refuse(self, scope: Any, receive: Any, send: Any, exc: Exception) -> None:
        """The refusal Litestar would send: the app's handler for the exception's class."""
        handlers = self.app.exception_handlers
        handler = next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)
        if handler is None:  # the app maps Exception, so only a changed app gets here
            raise exc
        request = self.app.request_class(scope=scope, receive=receive, send=send)
        response = handler(request, exc)
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)
