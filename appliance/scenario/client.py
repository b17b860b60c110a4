"""The runner's HTTP client: one connection pool, many simulated devices.

Each simulated participant is a device with its own bearer token; the runner sends
every request with a fresh ``Idempotency-Key`` as the web UI does, and resends the
same key when the network drops a request (the appliance answers a resend with the
first outcome, so nothing is applied twice). Cookies are never kept: the pool is
shared, and a cookie from one device's pairing must not make a stranger look paired.

aiohttp, not httpx: a full hall is 500 delegates and 100 screens in this one process, and
with httpx the runner spent more CPU than the appliance it drove, 83 % of it in
httpx/httpcore (bench/RESULTS.md, "Full hall rehearsal").
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from json import loads as json_loads
from typing import Any

import aiohttp

RETRIES = (0.2, 0.5, 1.0, 2.0)


class ApplianceGone(Exception):
    """The appliance stopped answering; the run ends with this message."""


@dataclass(frozen=True)
class Reply:
    """An answer from the appliance: status, JSON body (when JSON) and raw bytes."""

    status: int
    body: Any
    content: bytes

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300

    @property
    def code(self) -> str:
        """``ok``, the error's machine code, or ``http_<status>`` when it has none."""
        if self.ok:
            return "ok"
        if isinstance(self.body, dict) and isinstance(self.body.get("code"), str):
            return str(self.body["code"])
        return f"http_{self.status}"

    def message(self) -> str:
        """The appliance's own explanation of a refusal, for reports."""
        if isinstance(self.body, dict):
            return str(self.body.get("message_en") or self.body.get("message") or self.code)
        return self.content[:200].decode("utf-8", "replace")


class Api:
    """A client of the appliance's public HTTP API (docs/CONTRACTS.md)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        """The pool, made on first use (a session belongs to the running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                base_url=self.base_url,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=256, limit_per_host=256),
                cookie_jar=aiohttp.DummyCookieJar(),  # never keep a cookie: see the module docstring
                trust_env=False,
            )
        return self._session

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        json: Any = None,
        files: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        """One request as a device; transport errors are retried with the same key."""
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        last: Exception | None = None
        for delay in (0.0, *RETRIES):
            if delay:
                await asyncio.sleep(delay)
            try:
                async with self._client().request(
                    method, path, headers=headers, json=json, data=_form(files, data), params=params
                ) as response:
                    return await _reply(response)
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
                last = exc
                continue
        raise ApplianceGone(f"the appliance stopped answering ({method} {path}: {last!r})")

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _form(files: dict[str, Any] | None, data: dict[str, str] | None) -> Any:
    """Multipart for an upload (``files`` as ``{field: (filename, bytes, content type)}``), else ``data`` as a form."""
    if not files:
        return data
    form = aiohttp.FormData()
    for name, value in (data or {}).items():
        form.add_field(name, value)
    for field, (filename, content, content_type) in files.items():
        form.add_field(field, content, filename=filename, content_type=content_type)
    return form


async def _reply(response: aiohttp.ClientResponse) -> Reply:
    content = await response.read()
    body: Any = None
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json_loads(content)
        except ValueError:
            body = None
    return Reply(response.status, body, content)
