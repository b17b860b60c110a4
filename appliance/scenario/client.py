"""The runner's HTTP client: one connection pool, many simulated devices.

Each simulated participant is a device with its own bearer token; the runner sends
every request with a fresh ``Idempotency-Key`` as the web UI does, and resends the
same key when the network drops a request (the appliance answers a resend with the
first outcome, so nothing is applied twice). Cookies are never kept: the pool is
shared, and a cookie from one device's pairing must not make a stranger look paired.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

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


def _no_cookies() -> http.cookiejar.CookieJar:
    # Passed as a bare CookieJar: httpx keeps that object (an httpx.Cookies would be
    # copied into a fresh jar, losing the policy).
    policy = http.cookiejar.DefaultCookiePolicy(allowed_domains=[])
    return http.cookiejar.CookieJar(policy=policy)


class Api:
    """A client of the appliance's public HTTP API (docs/CONTRACTS.md)."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            limits=limits,
            cookies=_no_cookies(),
            trust_env=False,
        )

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
                response = await self._client.request(
                    method,
                    path,
                    headers=headers,
                    json=json,
                    files=files,
                    data=data,
                    params=params,
                )
            except httpx.TransportError as exc:
                last = exc
                continue
            return _reply(response)
        raise ApplianceGone(f"the appliance stopped answering ({method} {path}: {last!r})")

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


def _reply(response: httpx.Response) -> Reply:
    body: Any = None
    if response.headers.get("content-type", "").startswith("application/json"):
        try:
            body = response.json()
        except ValueError:
            body = None
    return Reply(response.status_code, body, response.content)
