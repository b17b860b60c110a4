"""Administrator sign-in: the first way onto a freshly provisioned box.

A fresh box has no paired device, and IT staff never open a shell on it. The bundle
carries administrator accounts (user name, role, scrypt hash); applying it adds one
participant per account (a technician or a secretary). Signing in with the user name and
password pairs the browser as that participant, exactly as a pairing code would: from
there the secretary issues codes for the tablets and the technician pairs the hall
displays. Wrong passwords count against the same per-address limiter as pairing codes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from appliance.core.errors import refuse
from appliance.core.ids import new_id
from appliance.meeting.decide import Command
from appliance.pairing.codes import code_digest, new_code

from .crypto import check_password, hash_password

if TYPE_CHECKING:
    from appliance.web.service import Appliance

    from .box import ProvisioningService

log = logging.getLogger("phs.provisioning")
ADMIN_ROLES = ("technician", "secretary")
DEFAULT_ROLE = "technician"
# Spent when the user name is unknown, so the answer takes as long as for a wrong password.
_DUMMY = hash_password("phs-no-such-administrator")


def admin_participants(admins: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Participants for the bundle's administrators (same order) and their new ids."""
    people = [{"name": str(a.get("name") or a["username"]), "role": str(a.get("role") or DEFAULT_ROLE)} for a in admins]
    return people, [new_id("p_") for _ in admins]


def _matches(record: dict[str, Any] | None, password: str) -> bool:
    if record is None:
        check_password(password, _DUMMY)
        return False
    return check_password(password, record["password"])


async def sign_in(app: Appliance, service: ProvisioningService, username: str, password: str, address: str) -> dict[str, Any]:
    """Check an administrator's password and pair this browser as their participant."""
    mono = app.clock.now().mono
    app.limiter.check(address, mono)
    admins = service.load().get("admins") or []
    record = next((a for a in admins if isinstance(a, dict) and a.get("username") == username), None)
    if not await asyncio.to_thread(_matches, record, password[:200]):
        if app.limiter.record_failure(address, mono):
            log.warning("administrator sign-in locked out", extra={"address": address})
        raise refuse("login_failed")
    assert record is not None
    participant = app.state.participants.get(str(record.get("participant_id") or ""))
    if participant is None:
        raise refuse("login_failed", message_en="This account has no participant on the box: apply the bundle again.")
    code = new_code()
    while code_digest(code, app.mac) in app.state.codes:
        code = new_code()
    from appliance.web.service import SYSTEM

    await app.execute(SYSTEM, Command("issue_code", {"participant_id": participant.id, "digest": code_digest(code, app.mac), "ttl": 60}))
    log.info("administrator signed in", extra={"role": participant.role})
    return await app.pair(code, address)
