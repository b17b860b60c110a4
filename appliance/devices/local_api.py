"""The way out of this process: the server's local API on a unix socket in DATA_DIR/run/.

`phs devices` never opens the store; what it learns (a button press, a stick) it posts
to `phs serve`. The server may be restarting or not up yet (supervisord starts all
programs at once), so being unable to reach it is normal: log it and try again later.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from appliance.core.errors import PhsError

log = logging.getLogger(__name__)

LOCAL_SOCKET = Path("run") / "local.sock"
# The host part is ignored over a unix socket but httpx needs a well-formed URL.
BASE_URL = "http://phs.local"


def local_socket_path(data_dir: Path) -> Path:
    """Where the server listens for local programs."""
    return data_dir / LOCAL_SOCKET


def post_local(
    data_dir: Path, path: str, json: Mapping[str, Any], *, timeout: float = 5.0
) -> dict[str, Any] | None:
    """POST ``json`` to the server; the answer, or None when the server is unreachable.

    A refusal (4xx) is raised as ``PhsError`` with the server's code: retrying it would
    get the same answer. A 5xx or a closed socket is "down": log it, the caller retries.
    """
    socket = local_socket_path(data_dir)
    transport = httpx.HTTPTransport(uds=str(socket))
    try:
        with httpx.Client(transport=transport, base_url=BASE_URL, timeout=timeout) as client:
            response = client.post(path, json=dict(json))
    except httpx.TransportError as exc:
        log.warning("server not reachable, will retry", extra={"path": path, "error": type(exc).__name__})
        return None
    if response.status_code >= 500:
        log.warning("server failed, will retry", extra={"path": path, "status": response.status_code})
        return None
    body = _json_or_empty(response)
    if response.status_code >= 400:
        raise PhsError(
            str(body.get("code", "invalid")),
            body.get("message"),
            body.get("message_en"),
            path=path,
            status=response.status_code,
        )
    return body


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"value": body}


class Outbox:
    """Posts waiting for the server, delivered in order by ``flush``.

    Bounded: a server down for a whole sitting must not grow this process without end,
    so the oldest posts are dropped (and logged) first.
    """

    def __init__(self, data_dir: Path, maxlen: int = 1000) -> None:
        self.data_dir = data_dir
        self._pending: deque[tuple[str, dict[str, Any]]] = deque()
        self.maxlen = maxlen

    def __len__(self) -> int:
        return len(self._pending)

    def put(self, path: str, json: Mapping[str, Any]) -> None:
        """Queue a post."""
        if len(self._pending) >= self.maxlen:
            dropped_path, _ = self._pending.popleft()
            log.warning("outbox full, dropped the oldest post", extra={"path": dropped_path})
        self._pending.append((path, dict(json)))

    def flush(self) -> int:
        """Deliver what we can, in order; stops at the first post the server cannot take yet."""
        delivered = 0
        while self._pending:
            path, body = self._pending[0]
            try:
                answer = post_local(self.data_dir, path, body)
            except PhsError as refused:
                # The server judged it and said no; keeping it would block everything behind.
                log.error("server refused a post, dropped", extra={"path": path, "code": refused.code})
                self._pending.popleft()
                continue
            if answer is None:
                break
            self._pending.popleft()
            delivered += 1
        return delivered
