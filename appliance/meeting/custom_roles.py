"""Custom roles — vai trò tùy chỉnh: sets of the named permissions of ``roles.PERMISSIONS``.

A body has people the built-in roles do not fit: a press officer who reads public
documents only, an invited expert who may ask for the floor, a deputy secretary who
checks delegates in. The secretary names such a role and ticks its permissions; a
participant given it gets exactly those. A custom role never makes anyone a delegate
of the body: voting and quorum belong to the delegates the people elected, so
``poll.vote`` and ``attendance.self`` are refused in a custom role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.core.text import fold, nfc
from appliance.meeting.apply import applies
from appliance.meeting.decide import handles
from appliance.meeting.model import Participant, SessionState
from appliance.meeting.roles import DELEGATE_ROLES, PERMISSIONS, ROLE_LABELS, ROLES, Actor
from appliance.meeting.seating_model import CustomRole
from appliance.meeting.views import section_builder

PREFIX = "custom_"
# Rights of an elected delegate only: a custom role cannot carry them.
DELEGATE_ONLY = frozenset({"poll.vote", "attendance.self"})
MAX_ROLES = 50


@event("role_defined")
@dataclass(frozen=True)
class RoleDefined(Event):
    """The secretary named a custom role and its permissions (a redefinition replaces them)."""

    code: str
    label: str
    label_en: str
    permissions: tuple[str, ...]


@event("participant_role_set")
@dataclass(frozen=True)
class ParticipantRoleSet(Event):
    """A participant was given another role."""

    participant_id: str
    role: str


def permissions_of(state: SessionState, role: str) -> frozenset[str]:
    """A role's permissions: the built-in table, else the body's custom role, else none."""
    if role in ROLES:
        return ROLES[role]
    custom = state.custom_roles.get(role)
    return frozenset(custom.permissions) if custom is not None else frozenset()


def actor_for(state: SessionState, participant: Participant) -> Actor:
    """The actor a paired device speaks for, with its role's permissions (custom ones too)."""
    return Actor(participant.id, participant.role, permissions_of(state, participant.role))


def known_role(state: SessionState, role: Any) -> bool:
    """A built-in role or one of the body's custom roles."""
    return isinstance(role, str) and (role in ROLES or role in state.custom_roles)


def role_names(state: SessionState) -> dict[str, str]:
    """Spellings of the custom roles a participant list may use (its label) -> code."""
    return {r.label: r.code for r in state.custom_roles.values()}


def _code_for(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", fold(label)).strip("_")[:40]
    return PREFIX + (slug or "role")


@handles("define_role", "participant.manage")
def _define(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    label = nfc(str(args.get("label") or "")).strip()
    label_en = nfc(str(args.get("label_en") or "")).strip()
    if not label or len(label) > 80 or len(label_en) > 80:
        raise refuse("invalid", "Tên vai trò phải có, tối đa 80 ký tự.", "A role needs a name of at most 80 characters.")
    perms = args.get("permissions")
    if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
        raise refuse("invalid", "'permissions' phải là danh sách quyền.", "'permissions' must be a list of permission names.")
    unknown = sorted(set(perms) - set(PERMISSIONS))
    if unknown:
        raise refuse("invalid", f"Quyền không tồn tại: {', '.join(unknown)}.", f"Unknown permissions: {', '.join(unknown)}.", unknown=unknown)
    reserved = sorted(set(perms) & DELEGATE_ONLY)
    if reserved:
        raise refuse(
            "invalid",
            "Quyền biểu quyết và tự điểm danh chỉ dành cho đại biểu.",
            "Voting and self check-in belong to the delegates of the body only.",
            reserved=reserved,
        )
    code = str(args.get("code") or "") or _code_for(label)
    if code in ROLES or not code.startswith(PREFIX) or len(code) > 60:
        raise refuse("invalid", "Mã vai trò không hợp lệ.", f"A custom role's code starts with '{PREFIX}'.")
    if code not in state.custom_roles and len(state.custom_roles) >= MAX_ROLES:
        raise refuse("invalid", f"Tối đa {MAX_ROLES} vai trò tùy chỉnh.", f"At most {MAX_ROLES} custom roles.")
    if any(fold(r.label) == fold(label) and r.code != code for r in state.custom_roles.values()):
        raise refuse("conflict", f"Đã có vai trò '{label}'.", f"A role named '{label}' exists.")
    ordered = tuple(p for p in PERMISSIONS if p in set(perms) | {"view"})  # everyone paired sees the state
    return [RoleDefined(code, label, label_en or label, ordered)]


@handles("set_role", "participant.manage")
def _set_role(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = args.get("participant_id")
    role = args.get("role")
    if not isinstance(pid, str) or pid not in state.participants:
        raise refuse("not_found", "Không tìm thấy người tham dự.", "No such participant.")
    if not known_role(state, role):
        raise refuse("invalid", "Vai trò không tồn tại.", "Unknown role.")
    person = state.participants[pid]
    was, will = person.role in DELEGATE_ROLES, role in DELEGATE_ROLES
    sitting = state.sitting()
    if was != will and sitting is not None and sitting.status == "open":
        # The base of every "of all delegates" rule would move under a running sitting.
        raise refuse(
            "conflict",
            "Đang họp: không thể thêm hay bớt đại biểu của Hội đồng.",
            "A sitting is open: the body's delegates cannot change now.",
        )
    if person.role == role:
        return []
    return [ParticipantRoleSet(pid, str(role))]


@applies(RoleDefined)
def _defined(s: SessionState, e: RoleDefined) -> None:
    s.custom_roles[e.code] = CustomRole(code=e.code, label=e.label, label_en=e.label_en, permissions=list(e.permissions))


@applies(ParticipantRoleSet)
def _role_set(s: SessionState, e: ParticipantRoleSet) -> None:
    if e.participant_id in s.participants:
        s.participants[e.participant_id].role = e.role


@section_builder("roles")
def roles_section(state: SessionState, actor: Actor) -> list[dict[str, Any]]:
    """Every role with its labels (screens label custom roles from here) and permissions."""
    out = [
        {"code": code, "label": ROLE_LABELS.get(code, (code, code))[0], "label_en": ROLE_LABELS.get(code, (code, code))[1], "custom": False,
         "permissions": sorted(perms)}
        for code, perms in ROLES.items()
    ]
    out += [
        {"code": r.code, "label": r.label, "label_en": r.label_en, "custom": True, "permissions": list(r.permissions)}
        for r in state.custom_roles.values()
    ]
    return out
