"""Check-in with the delegate's PIN — điểm danh bằng mã PIN, when the body requires it.

A tablet left on a desk must not check its delegate in for them. When the body turns
the rule on, a delegate's own check-in carries their PIN; the secretary checking a
delegate in on their behalf (or a check-in card scanned at the door) needs none.

Only a salted SHA-256 of each PIN is kept (the salt comes with the command, so replay
rebuilds the same state); the PIN itself is never in an event, a snapshot or a log.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.meeting import decide as decide_module
from appliance.meeting.apply import applies
from appliance.meeting.decide import handles
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import section_builder

PIN_DIGITS = (4, 8)


@event("pin_rule_set")
@dataclass(frozen=True)
class PinRuleSet(Event):
    """The body requires (or no longer requires) a PIN for a delegate's own check-in."""

    required: bool


@event("pin_set")
@dataclass(frozen=True)
class PinSet(Event):
    """A participant's PIN changed: only its salted digest is recorded."""

    participant_id: str
    salt: str
    digest: str


def pin_digest(salt: str, participant_id: str, pin: str) -> str:
    """The stored form of a PIN."""
    return hashlib.sha256(f"{salt}:{participant_id}:{pin}".encode()).hexdigest()


def _pin(args: dict[str, Any]) -> str:
    pin = args.get("pin")
    if not isinstance(pin, str | int) or isinstance(pin, bool):
        raise refuse("invalid", "Hãy nhập mã PIN.", "Enter the PIN.", field="pin")
    text = str(pin).strip()
    if not text.isdigit() or not PIN_DIGITS[0] <= len(text) <= PIN_DIGITS[1]:
        raise refuse("invalid", "Mã PIN gồm 4 đến 8 chữ số.", "A PIN is 4 to 8 digits.", field="pin")
    return text


@handles("set_pin_rule", "participant.manage")
def _set_rule(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    required = args.get("required")
    if not isinstance(required, bool):
        raise refuse("invalid", "'required' phải là true hoặc false.", "'required' must be true or false.")
    return [] if state.attendance_rules.pin_required == required else [PinRuleSet(required)]


@handles("set_pin", "view")
def _set_pin(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """The secretary sets anyone's PIN; a delegate sets their own only while none is set."""
    pid = args.get("participant_id") or actor.participant_id
    if not isinstance(pid, str) or pid not in state.participants:
        raise refuse("not_found", "Không tìm thấy người tham dự.", "No such participant.")
    own = actor.can("attendance.self") and pid == actor.participant_id and pid not in state.attendance_rules.pins
    if not actor.can("participant.manage") and not own:
        raise refuse("forbidden", "Chỉ thư ký mới đổi được mã PIN đã đặt.", "Only the secretary can change a PIN once set.")
    salt = str(args.get("salt") or "")
    if len(salt) != 32:
        raise refuse("invalid", message_en="a PIN needs a 16-byte salt from the server")
    return [PinSet(pid, salt, pin_digest(salt, pid, _pin(args)))]


_plain_check_in = decide_module._HANDLERS["check_in"][1]


@handles("check_in", "view")
def _check_in(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """A delegate's own check-in carries their PIN when the body requires one."""
    pid = args.get("participant_id") or actor.participant_id
    if state.attendance_rules.pin_required and pid == actor.participant_id:
        stored = state.attendance_rules.pins.get(str(pid))
        if stored is None:
            raise refuse(
                "forbidden",
                "Chưa có mã PIN: hãy nhờ thư ký đặt mã hoặc điểm danh hộ.",
                "No PIN is set: ask the secretary to set one or to check you in.",
                reason="pin_missing",
            )
        salt, digest = stored
        if not hmac.compare_digest(pin_digest(salt, str(pid), _pin(args)), digest):
            raise refuse("forbidden", "Mã PIN không đúng.", "The PIN is wrong.", reason="pin_wrong")
    return _plain_check_in(state, actor, args, now)


@applies(PinRuleSet)
def _rule(s: SessionState, e: PinRuleSet) -> None:
    s.attendance_rules.pin_required = e.required


@applies(PinSet)
def _pin_set(s: SessionState, e: PinSet) -> None:
    s.attendance_rules.pins[e.participant_id] = (e.salt, e.digest)


@section_builder("check_in_rules")
def rules_section(state: SessionState, actor: Actor) -> dict[str, Any]:
    """Whether a PIN is needed, how many are set (for the secretary) — never a digest — and
    whether the public display is on."""
    return {
        "pin_required": state.attendance_rules.pin_required,
        "public_display": state.hall_options.public_display,
        "pins_set": len(state.attendance_rules.pins) if actor.can("participant.manage") else None,
    }
