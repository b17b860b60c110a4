"""Check-in cards — thẻ điểm danh: a printed QR per delegate, scanned at the entrance.

The card carries the participant id and a keyed tag (HMAC with a key of the box), so a
card cannot be forged from a delegate list, and it grants nothing but "this delegate
is here": the device that reads it must itself hold ``attendance.manage`` (the
secretary's entrance tablet) or be the devices program on the local socket (a USB
card reader at the door, ``appliance.devices.card_reader``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from litestar import Request, get, post

from appliance.core.errors import refuse
from appliance.meeting.decide import Command
from appliance.meeting.roles import DELEGATE_ROLES
from appliance.pairing.qr import qr_svg
from appliance.web.auth import LOCAL, actor_of
from appliance.web.controllers import body_dict

PREFIX = "PHSDD"
_CARD = re.compile(r"^PHSDD([A-Za-z0-9_\-]{1,64})\.([0-9a-f]{12})$")


def _key(request: Request[Any, Any, Any]) -> bytes:
    key: bytes = request.app.state.appliance.keyring.mac_key("checkin-cards")
    return key


def card_code(key: bytes, participant_id: str) -> str:
    """The text a card's QR holds (and a reader types): PHSDD<id>.<tag>."""
    tag = hmac.new(key, participant_id.encode(), hashlib.sha256).hexdigest()[:12]
    return f"{PREFIX}{participant_id}.{tag}"


def card_holder(key: bytes, code: Any) -> str:
    """The participant a genuine card names, else ``not_found`` (a forged and an unknown card look alike)."""
    text = str(code or "").strip()
    match = _CARD.match(text)
    if match is None or not hmac.compare_digest(card_code(key, match.group(1)), text):
        raise refuse("not_found", "Thẻ điểm danh không hợp lệ.", "This check-in card is not valid.")
    return match.group(1)


@get("/api/attendance/cards", opt={"permission": "attendance.manage"})
async def cards(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every delegate's card, with its QR, for printing."""
    state = request.app.state.appliance.state
    key = _key(request)
    people = sorted(
        (p for p in state.participants.values() if p.role in DELEGATE_ROLES),
        key=lambda p: (p.seat if p.seat is not None else 10**6, p.id),
    )
    return {
        "cards": [
            {"participant_id": p.id, "name": p.name, "seat": p.seat, "title": p.title,
             "code": card_code(key, p.id), "qr_svg": qr_svg(card_code(key, p.id))}
            for p in people
        ]
    }


async def _check_in_card(request: Request[Any, Any, Any], code: Any, actor: Any) -> dict[str, Any]:
    appliance = request.app.state.appliance
    pid = card_holder(_key(request), code)
    if pid not in appliance.state.participants:
        raise refuse("not_found", "Thẻ điểm danh không hợp lệ.", "This check-in card is not valid.")
    outcome = await appliance.execute(actor, Command("check_in", {"participant_id": pid}), device="card")
    person = appliance.state.participants[pid]
    return {"ok": True, "position": outcome["position"], "changed": outcome.get("changed", False),
            "participant": {"id": pid, "name": person.name, "seat": person.seat}}


@post("/api/attendance/card", opt={"permission": "attendance.manage"}, status_code=200)
async def check_in_card(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The entrance tablet read a card (camera or typed): ``{"code": "PHSDD..."}``."""
    return await _check_in_card(request, body_dict(data).get("code"), actor_of(request))


@post("/api/local/attendance/card", opt={"permission": LOCAL}, status_code=200)
async def reader_card(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A USB card reader at the door typed a card (``phs devices`` on the local socket)."""
    from appliance.web.service import SYSTEM

    return await _check_in_card(request, body_dict(data).get("code"), SYSTEM)


__all__ = ["card_code", "card_holder"]


ROUTES = [cards, check_in_card, reader_card]
