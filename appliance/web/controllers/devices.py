"""Device trust for the technician and the secretary: the device list, revocation, the
pairing window, printable seat cards; and, for everyone, the box's CA certificate."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from appliance.core.errors import refuse
from appliance.pairing.qr import qr_svg
from appliance.web.auth import PUBLIC, actor_of, device_of
from appliance.web.controllers import body_dict, run

MAX_CARDS = 1000


def _window(request: Request[Any, Any, Any]) -> dict[str, Any]:
    appliance = request.app.state.appliance
    now = appliance.clock.now()
    until = appliance.state.trust.window_until
    return {
        "open": now.wall < until,
        "until": until if now.wall < until else None,
        "seconds_left": max(0, int(until - now.wall)),
        "pairing_locked_s": int(appliance.trust.box_locked_for(now.mono) + 0.999),
    }


@get("/api/pairing/devices", opt={"permission": "device.manage"})
async def list_devices(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every paired device with its participant, last contact, live channel and key."""
    appliance = request.app.state.appliance
    return {
        "devices": appliance.trust.devices(),
        "window": _window(request),
        "now": appliance.clock.now().wall,
        "vote_pin_required": appliance.state.trust.vote_pin_required,
    }


@post(
    "/api/pairing/devices/{device_id:str}/revoke",
    opt={"permission": "device.manage"},
    status_code=200,
)
async def revoke_device(request: Request[Any, Any, Any], device_id: str) -> dict[str, Any]:
    """Revoke a device: its credential stops working, its live channel closes, it wipes itself."""
    outcome = await run(request, "revoke_device", {"device_id": device_id[:64]})
    return {"ok": True, "device_id": device_id, "position": outcome.get("position")}


@get("/api/pairing/window", opt={"permission": "device.pair"})
async def pairing_window(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Whether seat cards pair right now."""
    return _window(request)


@post("/api/pairing/window", opt={"permission": "device.manage"}, status_code=200)
async def open_window(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Open a pairing window (default 10 minutes); also lifts a box-wide guessing lock."""
    body = body_dict(data)
    await run(request, "open_pairing_window", {"minutes": body.get("minutes", 10)})
    request.app.state.appliance.trust.unlock()
    return _window(request)


@post("/api/pairing/window/close", opt={"permission": "device.manage"}, status_code=200)
async def close_window(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Close the pairing window now."""
    await run(request, "close_pairing_window", {})
    return _window(request)


@post("/api/pairing/cards", opt={"permission": "device.pair"}, status_code=200)
async def seat_cards(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Printable seat cards: one new one-time QR per participant (older cards stop working)."""
    body = body_dict(data)
    appliance = request.app.state.appliance
    state = appliance.state
    ids = body.get("participant_ids")
    if ids == "all" or ids is None:
        # Technicians pair only displays and their own devices; the secretary prints the rest.
        staff = actor_of(request).role == "technician"
        ids = [
            p.id
            for p in state.participants.values()
            if (p.role in ("display", "technician")) == staff
        ]
    if not isinstance(ids, list) or not ids or len(ids) > MAX_CARDS:
        raise refuse("invalid", "Hãy chọn người cần in thẻ.", "Choose whom to print cards for.")
    codes = await appliance.issue_seat_cards(actor_of(request), ids)
    base = _card_base(request)
    cards = []
    for pid in ids:
        person = state.participants[pid]
        url = f"{base}/ui/?card={codes[pid]}"
        cards.append(
            {
                "participant_id": pid,
                "name": person.name,
                "title": person.title,
                "role": person.role,
                "seat": person.seat,
                "code": codes[pid],
                "pair_url": url,
                "qr_svg": qr_svg(url),
            }
        )
    cards.sort(key=lambda c: (c["seat"] is None, c["seat"] or 0, c["name"]))
    return {"cards": cards, "window": _window(request)}


def _card_base(request: Request[Any, Any, Any]) -> str:
    """Where a printed card sends a tablet: never a loopback address only the box can reach."""
    from appliance.web.tls import BOX_NAME, is_loopback_host, tls_wanted

    base = str(request.base_url).rstrip("/")
    settings = request.app.state.appliance.settings
    if not is_loopback_host(request.url.hostname or "") or is_loopback_host(settings.host):
        return base
    if tls_wanted(settings):
        return f"https://{BOX_NAME}" + ("" if settings.tls_port == 443 else f":{settings.tls_port}")
    return f"http://{BOX_NAME}" + ("" if settings.port == 80 else f":{settings.port}")


@get("/api/tls/ca.pem", opt={"permission": PUBLIC}, include_in_schema=False)
async def ca_certificate(request: Request[Any, Any, Any]) -> Response[bytes]:
    """The box's CA certificate, to install on a tablet (served over plain HTTP too)."""
    from appliance.web.tls import tls_files

    path = tls_files(request.app.state.appliance.settings.data_dir).ca_cert
    if not path.exists():
        raise refuse("not_found", "Hộp chưa bật HTTPS.", "HTTPS is not set up on this box.")
    return Response(
        path.read_bytes(),
        media_type="application/x-x509-ca-cert",
        headers={"Content-Disposition": 'attachment; filename="phs-ca.crt"'},
    )


@get("/api/tls/info", opt={"permission": PUBLIC})
async def tls_info(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The CA fingerprint (to compare with the hall display) and where HTTPS answers."""
    from appliance.web.tls import fingerprint, load_ca, tls_files

    appliance = request.app.state.appliance
    settings = appliance.settings
    files = tls_files(settings.data_dir)
    if not files.ca_cert.exists():
        return {"enabled": False, "fingerprint": None, "https_port": None}
    host = request.url.hostname or "phs.local"
    port = settings.tls_port
    https = f"https://{host}" + ("" if port == 443 else f":{port}")
    return {
        "enabled": True,
        "fingerprint": fingerprint(load_ca(files)),
        "https_port": port,
        "https_base": https,
    }


@get("/api/pairing/session", opt={"permission": "view"})
async def device_session(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A signed keep-alive: a keyed tablet renews the cookie its page images ride on."""
    return {"ok": True, "device": device_of(request)}


@get("/api/pairing/vote-pin", opt={"permission": "poll.vote"})
async def vote_pin_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Whether this tablet must give the PIN before voting, and for which open polls it has."""
    return dict(request.app.state.appliance.trust.vote_pin_status(device_of(request)))


@post("/api/pairing/vote-pin", opt={"permission": "poll.vote"}, status_code=200)
async def vote_pin_unlock(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The delegate types their PIN: this tablet may then vote in that poll."""
    body = body_dict(data)
    trust = request.app.state.appliance.trust
    trust.unlock_vote(
        device_of(request), actor_of(request), str(body.get("poll_id", ""))[:64], body.get("pin")
    )
    return dict(trust.vote_pin_status(device_of(request)))


@post("/api/pairing/vote-pin-rule", opt={"permission": "session.manage"}, status_code=200)
async def vote_pin_rule(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The body turns the PIN before each ballot on or off."""
    await run(request, "set_vote_pin_rule", {"required": body_dict(data).get("required")})
    return {"required": request.app.state.appliance.state.trust.vote_pin_required}


ROUTES = [
    list_devices,
    revoke_device,
    pairing_window,
    open_window,
    close_window,
    seat_cards,
    ca_certificate,
    tls_info,
    device_session,
    vote_pin_status,
    vote_pin_unlock,
    vote_pin_rule,
]
