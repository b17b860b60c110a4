"""Provisioning bundles and software updates handed over by `phs devices` (or an IT laptop).

Each action has two doors: ``/api/local/provisioning/...`` on the local unix socket, which
`phs devices` uses for a stick and `phs provision apply` uses on the box, and
``/api/provisioning/...`` over TCP behind ``session.manage`` (the secretary), which
`phs provision apply --url` uses from a laptop. The body of a bundle route is the raw
``.phsb`` file. Refusals are ``bundle_*`` errors that say what to fix; a refused bundle
leaves the journal exactly where it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post

from appliance.core.errors import refuse
from appliance.web.auth import COOKIE, LOCAL, PUBLIC
from appliance.web.controllers import body_dict
from provisioning.box import ProvisioningService
from provisioning.format import MAX_BUNDLE_BYTES

BODY_LIMIT = MAX_BUNDLE_BYTES + 1024 * 1024


def service_of(request: Request[Any, Any, Any]) -> ProvisioningService:
    """The appliance's provisioning service, made on first use."""
    state = request.app.state
    service = getattr(state, "provisioning", None)
    if service is None:
        service = ProvisioningService(state.appliance)
        service.recover()  # an application a power cut interrupted is settled before anything else
        state.provisioning = service
    return service


async def _bundle_body(request: Request[Any, Any, Any]) -> bytes:
    data = await request.body()
    if not data:
        raise refuse("bundle_invalid", "Không nhận được gói nào.", "No bundle was sent.", reason="empty")
    return data


def _name(request: Request[Any, Any, Any]) -> str:
    return Path(request.headers.get("x-bundle-name", "bundle.phsb")).name[:200]


@get("/api/provisioning", opt={"permission": "view"})
async def status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Progress and outcome of the last bundle, the box's and the trusted key's fingerprints."""
    return service_of(request).describe()


@get("/api/provisioning/box", opt={"permission": PUBLIC})
async def box_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What an unpaired hall display shows: fingerprints (public keys) and the last bundle's stage."""
    return service_of(request).public()


@post("/api/login", opt={"permission": PUBLIC}, status_code=200)
async def login(request: Request[Any, Any, Any], data: Any = None) -> Response[dict[str, Any]]:
    """An administrator from the bundle signs in: this browser is paired as their participant."""
    from provisioning.admins import sign_in

    body = body_dict(data)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username.strip() or not password:
        raise refuse("invalid", "Hãy nhập tên đăng nhập và mật khẩu.", "Enter the user name and the password.")
    address = request.client.host if request.client else "unknown"
    result = await sign_in(request.app.state.appliance, service_of(request), username.strip()[:100], password, address)
    response = Response(result, status_code=200)
    response.set_cookie(COOKIE, result["token"], httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        max_age=60 * 60 * 24 * 30, path="/")
    return response


async def _enrolment(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The box's enrol.json (public keys only)."""
    return service_of(request).enrolment()


async def _apply_bundle(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Verify and apply a provisioning bundle, all or nothing; answers with the receipt."""
    return await service_of(request).apply(await _bundle_body(request), _name(request))


async def _rollback(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Put the previous bundle's configuration back (once)."""
    return await service_of(request).rollback()


async def _apply_update(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Verify a software update, stage it beside the running version and switch (never mid-sitting)."""
    import asyncio

    from provisioning.reader import read_bundle
    from provisioning.updates import stage, switch

    service = service_of(request)
    root = os.environ.get("PHS_RELEASES_ROOT")
    if not root:
        raise refuse("not_supported", "Hộp này không cài bản cập nhật (PHS_RELEASES_ROOT chưa đặt).",
                     "This machine does not install updates (PHS_RELEASES_ROOT is not set).")
    state = request.app.state.appliance.state
    if any(s.status == "open" for s in state.sittings):
        raise refuse("conflict", "Không cập nhật phần mềm khi phiên họp đang mở.", "No software update while a sitting is open.")
    trusted = service.trusted()
    if trusted is None:
        raise refuse("bundle_untrusted", "Hộp chưa tin cậy khóa nào: hãy nạp gói cấu hình trước.",
                     "The box trusts no key yet: apply a provisioning bundle first.")
    bundle = read_bundle(await _bundle_body(request), trusted=trusted)
    version = await asyncio.to_thread(stage, Path(root), bundle)
    await asyncio.to_thread(switch, Path(root), version)
    return {"ok": True, "version": version, "restart": True}


def _doors(name: str, method: str, fn: Any, body: bool = False) -> list[Any]:
    """The same action on the local socket (``local``) and over TCP (``session.manage``)."""
    decorator = get if method == "GET" else post
    out = []
    for prefix, permission in (("/api/local/provisioning", LOCAL), ("/api/provisioning", "session.manage")):
        extra: dict[str, Any] = {"request_max_body_size": BODY_LIMIT} if body else {}
        if method == "POST":
            extra["status_code"] = 200

        async def handler(request: Request[Any, Any, Any]) -> dict[str, Any]:
            result: dict[str, Any] = await fn(request)
            return result

        handler.__doc__ = fn.__doc__
        out.append(decorator(f"{prefix}/{name}", opt={"permission": permission}, name=f"{permission}:{name}", **extra)(handler))
    return out


ROUTES: list[Any] = [
    status,
    box_status,
    login,
    *_doors("enrolment", "GET", _enrolment),
    *_doors("bundles", "POST", _apply_bundle, body=True),
    *_doors("rollback", "POST", _rollback),
    *_doors("updates", "POST", _apply_update, body=True),
]
