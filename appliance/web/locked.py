"""The locked box: no key-encryption key yet, so nothing can be read or written.

With a ``usb`` key provider and no stick in, the server still starts (so the hall sees
why nothing works) but serves only a bilingual "insert the key stick" page, ``503
locked`` on the API and a ``locked`` flag on ``/api/health``; it looks for the stick
every 2 s and opens the store when it appears. A ``file`` provider whose key file is
gone cannot appear on its own: ``phs serve`` refuses to start with a clear message and
changes nothing in the data directory (``preflight``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from appliance import __version__
from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.store.keys import Keyring, has_wrapped_keys
from appliance.store.providers import KeyProvider, make_provider

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.locked")

POLL_S = 2.0
PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PHS — Hộp đang khóa / The box is locked</title></head>
<body>
<h1>Hãy cắm khóa USB</h1>
<p>Hộp Phòng họp số đang khóa: dữ liệu được mã hóa và chỉ mở được bằng khóa USB của hộp.
Cắm khóa vào hộp; trang này tự mở lại sau vài giây.</p>
<h1 lang="en">Insert the key stick</h1>
<p lang="en">The PHS box is locked: its data is encrypted and opens only with the box's key
stick. Plug it in; this page reloads by itself within a few seconds.</p>
</body></html>
"""
PAGE_HEADERS = [
    (b"content-type", b"text/html; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"retry-after", b"2"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
]


def provider_for(settings: Settings) -> KeyProvider:
    """The key provider the settings name."""
    return make_provider(
        settings.key_provider, settings.keys_dir, settings.key_label, settings.key_mount
    )


def preflight(settings: Settings) -> str | None:
    """Why the server must not start (a bilingual message), or None; reads, never writes."""
    try:
        provider = provider_for(settings)
        if provider.may_appear or provider.available():
            return None
        if provider.name == "tpm2":
            provider.read_kek()  # refuses with not_supported
        if not has_wrapped_keys(settings.data_dir):
            return None  # a fresh box: the first start makes its key
    except PhsError as err:
        return f"{err.message}\n{err.message_en}\n"
    where = provider.describe().get("where", "")
    return (
        f"PHS không khởi động: không tìm thấy tệp khóa mã hóa {where}, nhưng dữ liệu đã được "
        "mã hóa bằng nó. Hãy khôi phục tệp khóa (hoặc cắm khóa USB); không có gì bị thay đổi.\n"
        f"PHS will not start: the key-encryption key file {where} is missing, but the data is "
        "sealed with it. Restore the key file (or insert the key stick); nothing was changed.\n"
    )


async def unlock(appliance: Appliance) -> Keyring | None:
    """The keyring, or None after arranging to wait (locked) for a key that may still appear."""
    settings = appliance.settings
    provider = provider_for(settings)
    try:
        return Keyring.open(settings.keys_dir, settings.data_dir, create=True, provider=provider)
    except PhsError as err:
        if err.code != "locked" or not provider.may_appear:
            raise
    appliance.locked = True
    log.warning("box locked: waiting for the key", extra={"event": "locked", **provider.describe()})
    appliance.unlocker = asyncio.create_task(_wait_for_key(appliance, provider), name="unlocker")
    return None


async def _wait_for_key(appliance: Appliance, provider: KeyProvider) -> None:
    settings = appliance.settings
    while True:
        await asyncio.sleep(POLL_S)
        try:  # create=True: a fresh box whose blank stick was just plugged in makes its key there
            keyring = Keyring.open(settings.keys_dir, settings.data_dir, create=True, provider=provider)
        except PhsError as err:
            log.debug("still locked", extra={"event": "locked", "code": err.code})
            continue
        try:
            await appliance.open_store(keyring)
        except PhsError as err:
            log.error("key present but the box cannot open", extra={"event": "unlock_failed", "code": err.code})
            continue
        appliance.locked = False
        log.info("box unlocked", extra={"event": "unlocked", "provider": provider.name})
        return


def _json(status: int, body: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    data = json.dumps(body, ensure_ascii=False).encode()
    return status, [(b"content-type", b"application/json"), (b"cache-control", b"no-store")], data


def locked_middleware(app: Any) -> Any:
    """Answer everything while the box is locked; pass through untouched once it is open."""

    # Plain ASGI (scope/receive/send as dicts): it must answer before routing and guards.
    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        appliance = getattr(scope.get("app"), "state", None)
        appliance = getattr(appliance, "appliance", None) if appliance is not None else None
        if scope["type"] == "lifespan" or appliance is None or not appliance.locked:
            await app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # try again later
            return
        path = str(scope.get("path", ""))
        if path == "/api/health":
            status, headers, body = _json(200, {"ok": True, "version": __version__, "locked": True})
        elif path.startswith("/api/"):
            status, headers, body = _json(503, PhsError("locked").to_dict())
        else:
            status, headers, body = 503, PAGE_HEADERS, PAGE.encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return middleware
