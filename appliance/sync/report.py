"""Tell the server that the archive holds a sitting, so the receipt goes into the journal.

The local socket first (``phs serve`` listens on DATA/run/local.sock; no credential, the
socket's file mode is the boundary); when it is absent, HTTP with a technician device
credential (``PHS_SYNC_TOKEN``). Unreachable is normal (the server restarts): the
caller keeps the receipt pending and tries again on its next round.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.devices.local_api import local_socket_path, post_local

log = logging.getLogger("appliance.sync")

LOCAL_ROUTE = "/api/local/archive/receipts"
HTTP_ROUTE = "/api/archive/receipts"


def report_receipt(settings: Settings, body: dict[str, Any]) -> bool:
    """True once the server recorded the receipt (or already had it); False to try later.

    A refusal (the server judged it and said no) raises ``PhsError``: retrying cannot help.
    """
    if local_socket_path(settings.data_dir).exists():
        answer = post_local(settings.data_dir, LOCAL_ROUTE, body)
        if answer is not None:
            return True
    if not settings.sync_token:
        return False
    try:
        response = httpx.post(
            settings.sync_server_url.rstrip("/") + HTTP_ROUTE,
            json=body,
            headers={"Authorization": f"Bearer {settings.sync_token}"},
            timeout=10.0,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        log.warning("server not reachable for the receipt", extra={"error": type(exc).__name__})
        return False
    if response.status_code >= 500:
        return False
    if response.status_code >= 400:
        try:
            detail = response.json()
        except ValueError:
            detail = {}
        raise PhsError(str(detail.get("code", "invalid")), detail.get("message"), detail.get("message_en"))
    return True
