"""Judge a command against the state: return the events it causes, or refuse with a code.

Pure: no I/O, no clock reads (the caller passes ``now``), no randomness except ids
passed in by the caller through ``command.args`` where they must be stable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.core.text import clean, nfc
from appliance.meeting import events as ev
from appliance.meeting.model import SessionState, Sitting, person_key
from appliance.meeting.roles import ROLES, Actor
from appliance.meeting.sitting_record import clock_jump

ACCESS_LEVELS = ("public", "delegates", "confidential")


def access_allowed(state: SessionState, access: Any) -> bool:
    """A document's access level: one of ACCESS_LEVELS, or ``group:ID`` for an existing group."""
    if not isinstance(access, str):
        return False
    return access in ACCESS_LEVELS or (access.startswith("group:") and access[6:] in state.groups.groups)


@dataclass(frozen=True)
class Command:
    """What a client asks for: a type and its arguments."""

    type: str
    args: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[SessionState, Actor, dict[str, Any], Stamp], list[Event]]
_HANDLERS: dict[str, tuple[str, Handler]] = {}


def handles(name: str, permission: str) -> Callable[[Handler], Handler]:
    """Register a handler with the permission it needs."""

    def wrap(fn: Handler) -> Handler:
        _HANDLERS[name] = (permission, fn)
        return fn

    return wrap


def command_permissions() -> dict[str, str]:
    """Command type -> permission, for docs and tests."""
    return {name: perm for name, (perm, _) in _HANDLERS.items()}


def decide(state: SessionState, actor: Actor, command: Command, now: Stamp) -> list[Event]:
    """The events ``command`` causes, or a ``PhsError`` saying why not."""
    entry = _HANDLERS.get(command.type)
    if entry is None:
        raise refuse("not_found", message_en=f"unknown command {command.type}")
    permission, handler = entry
    if not actor.can(permission):
        raise refuse("forbidden")
    return handler(state, actor, command.args, now)


# -- helpers -----------------------------------------------------------------


def _clean(value: str, *, one_line: bool = False) -> str:
    """NFC, no control or invisible characters (a NUL or an RTL override in a name would reach every screen)."""
    return clean(value, one_line=one_line)


def _text(args: dict[str, Any], key: str, *, required: bool = True, limit: int = 2000, one_line: bool = False) -> str:
    value = args.get(key, "")
    if not isinstance(value, str):
        raise refuse("invalid", f"Trường '{key}' phải là chuỗi.", f"'{key}' must be a string.")
    value = _clean(value, one_line=one_line)
    if required and not value:
        raise refuse("invalid", f"Trường '{key}' không được để trống.", f"'{key}' must not be empty.")
    if len(value) > limit:
        raise refuse("invalid", f"Trường '{key}' quá dài.", f"'{key}' is too long.")
    return value


def _open_sitting(state: SessionState) -> Sitting:
    sitting = state.sitting()
    if sitting is None or sitting.status != "open":
        raise refuse("sitting_not_open")
    return sitting


def _participant(state: SessionState, pid: Any) -> str:
    if not isinstance(pid, str) or pid not in state.participants:
        raise refuse("not_found", "Không tìm thấy người tham dự.", "No such participant.")
    return pid


def _target(state: SessionState, actor: Actor, args: dict[str, Any], manage: str) -> str:
    """Whom an attendance command is about: oneself, or another with the manage permission."""
    pid = args.get("participant_id") or actor.participant_id
    pid = _participant(state, pid)
    if pid != actor.participant_id and not actor.can(manage):
        raise refuse("forbidden")
    return pid


def _delegate_actor(state: SessionState, actor: Actor) -> str:
    pid = actor.participant_id
    if pid is None or pid not in state.participants or not state.participants[pid].is_delegate:
        raise refuse("forbidden")
    return pid


# -- set-up ------------------------------------------------------------------


@handles("setup", "session.manage")
def _setup(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    body = _text(args, "body", limit=200)
    session = _text(args, "session", limit=300)
    titles = args.get("sittings") or ["Phiên họp thứ nhất"]
    if not isinstance(titles, list) or not all(isinstance(t, str) and t.strip() for t in titles):
        raise refuse("invalid", "Danh sách phiên họp không hợp lệ.", "Sittings must be a list of titles.")
    if state.sittings and any(s.status != "planned" for s in state.sittings):
        raise refuse("conflict", "Kỳ họp đã bắt đầu, không thể thiết lập lại.", "The session has started.")
    if len(titles) > 20:
        raise refuse("invalid", "Tối đa 20 phiên họp.", "At most 20 sittings.")
    sittings = tuple((f"s{i + 1}", _clean(t)[:300]) for i, t in enumerate(titles))
    return [ev.SessionSetUp(body, session, sittings, bool(args.get("rehearsal", False)))]


@handles("add_participants", "participant.manage")
def _add_participants(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    rows = args.get("participants")
    ids = args.get("ids") or []
    if not isinstance(rows, list) or not rows:
        raise refuse("invalid", "Danh sách người tham dự trống.", "The participant list is empty.")
    seats = {p.seat for p in state.participants.values() if p.seat is not None}
    known = {p.identity(): (p.id, p.seat) for p in state.participants.values()}
    out: list[Event] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise refuse("invalid", f"Dòng {i + 1} không hợp lệ.", f"Row {i + 1} is not valid.", row=i + 1)
        name = _text(row, "name", limit=200, one_line=True)
        role = row.get("role", "delegate")
        if not isinstance(role, str) or (role not in ROLES and role not in state.custom_roles):
            raise refuse("invalid", f"Dòng {i + 1}: vai trò không hợp lệ.", f"Row {i + 1}: unknown role.", row=i + 1)
        seat = row.get("seat")
        if seat is not None:
            if not isinstance(seat, int) or isinstance(seat, bool) or not 1 <= seat <= 5000:
                raise refuse("invalid", f"Dòng {i + 1}: số ghế không hợp lệ.", f"Row {i + 1}: bad seat.", row=i + 1)
            if seat in seats:
                raise refuse("invalid", f"Dòng {i + 1}: ghế {seat} đã có người.", f"Row {i + 1}: seat {seat} is taken.", row=i + 1)
            seats.add(seat)
        pid = ids[i] if i < len(ids) and isinstance(ids[i], str) else _free_id(state, out, len(state.participants) + i + 1)
        title, team = _text(row, "title", required=False, one_line=True), _text(row, "team", required=False, one_line=True)
        unit = _text(row, "unit", required=False, limit=1000, one_line=True)
        who = person_key(name, title, unit, team)
        twin = known.get(who)
        if twin is not None and not row.get("namesake") and not (seat is not None and twin[1] is not None):
            # Two people may share a name; the same name, title, unit and team is one person
            # twice (as an edit and the list import judge it) unless both have seats of their
            # own, or the secretary said they are two people (``namesake``, the import's "distinct").
            raise refuse(
                "conflict",
                f"Dòng {i + 1}: đã có {name} cùng chức vụ, đơn vị và tổ: đây là một người.",
                f"Row {i + 1}: {name} is already listed with the same title, unit and team: that is one person.",
                row=i + 1, participant_id=twin[0],
            )
        known[who] = (pid, seat)
        out.append(ev.ParticipantAdded(pid, name, role, seat, title, team, unit))
    return out


def _free_id(state: SessionState, added: list[Event], n: int) -> str:
    """``pN`` not yet taken: after a removal the count alone would give an existing id."""
    taken = {*state.participants, *(getattr(e, "id", "") for e in added)}
    while f"p{n}" in taken:
        n += 1
    return f"p{n}"


@handles("add_agenda_item", "agenda.manage")
def _add_item(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    return [ev.AgendaItemAdded(str(args.get("id") or f"i{len(state.agenda) + 1}"), _text(args, "title", limit=500, one_line=True))]


@handles("add_document", "document.manage")
def _add_document(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    item = args.get("item")
    if not isinstance(item, int) or not 1 <= item <= len(state.agenda):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    access = args.get("access", "delegates")
    if not access_allowed(state, access):
        raise refuse("invalid", "Mức truy cập không hợp lệ.", "Unknown access level.")
    rec = args["record"]
    return [
        ev.DocumentAdded(
            id=args["id"],
            item_id=state.agenda[item - 1].id,
            title=nfc(rec["title"])[:300],
            filename=_clean(str(args.get("filename", "")).replace("\\", "/").rsplit("/", 1)[-1])[:300],
            pages=int(rec["page_count"]),
            sizes=tuple((float(w), float(h)) for w, h in rec["sizes"]),
            access=access,
            blobs=rec["page_blobs"],
            original_blob=rec["original_blob"],
            text_blob=rec.get("text_blob") or "",
            readers=readers_of(state, access, args.get("readers")),
            watermark=bool(args.get("watermark", False)),
            pdf_blob=str(rec.get("pdf_blob") or ""),
        )
    ]


def readers_of(state: SessionState, access: str, readers: Any) -> tuple[str, ...]:
    """Named readers of a confidential document: known participant ids, in order, once each."""
    if readers in (None, [], ()):
        return ()
    if access != "confidential":
        raise refuse("invalid", "Chỉ tài liệu mật mới có danh sách người đọc.", "Only a confidential document names its readers.")
    if not isinstance(readers, (list, tuple)) or len(readers) > 5000:
        raise refuse("invalid", "Danh sách người đọc không hợp lệ.", "'readers' must be a list of participant ids.")
    out: list[str] = []
    for pid in readers:
        if not isinstance(pid, str) or pid not in state.participants:
            raise refuse("not_found", "Không có đại biểu này.", "No such participant.", participant_id=str(pid)[:64])
        if pid not in out:
            out.append(pid)
    return tuple(out)


# -- pairing -------------------------------------------------------------------


@handles("issue_code", "device.pair")
def _issue_code(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _participant(state, args.get("participant_id"))
    if actor.role == "technician" and state.participants[pid].role not in ("display", "technician"):
        # IT staff pair hall displays; a delegate's or the chair's device is the secretary's call.
        raise refuse("forbidden", "Kỹ thuật viên chỉ cấp mã cho màn hình và máy kỹ thuật.", "Technicians pair only displays and technician devices.")
    return [ev.PairingCodeIssued(args["digest"], pid, now.wall + float(args.get("ttl", 600)))]


@handles("pair", "pair")
def _pair(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    code = state.codes.get(args["code_digest"])
    if code is None or code.used or code.expires_at < now.wall:
        raise refuse("code_invalid")
    return [ev.DevicePaired(args["device_id"], code.participant_id, args["token_digest"], code.digest, now.wall)]


# -- the sitting ---------------------------------------------------------------


@handles("open_sitting", "sitting.manage")
def _open(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = state.sitting()
    if sitting is None:
        raise refuse("not_found", "Chưa có phiên họp nào được lên lịch.", "No sitting is planned.")
    if sitting.status == "open":
        raise refuse("conflict", "Phiên họp đã khai mạc.", "The sitting is already open.")
    if sitting.status == "closed":
        nxt = next((s for s in state.sittings if s.status == "planned"), None)
        if nxt is None:
            raise refuse("conflict", "Không còn phiên họp nào để khai mạc.", "No sitting left to open.")
        sitting = nxt
    confirmed = args.get("confirmed_wall")
    if confirmed is not None and not isinstance(confirmed, int | float):
        raise refuse("invalid")
    wall = float(confirmed) if confirmed is not None else None
    # A confirmed time far from the box's clock is recorded beside it, never applied to it.
    return [ev.SittingOpened(sitting.id, now.wall, now.mono, wall), *clock_jump(sitting.id, wall, now)]


@handles("close_sitting", "sitting.manage")
def _close(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = _open_sitting(state)
    out: list[Event] = []
    for entry in list(state.floor.speaking):
        out.append(ev.FloorEnded(entry.participant_id, now.wall, round(now.mono - entry.mono, 3)))
    from appliance.meeting.poll_commands import close_events  # a feature module that imports us

    for poll in state.polls.values():
        if poll.status == "open":
            out += close_events(state, poll.id, now)
    out.append(ev.SittingClosed(sitting.id, now.wall))
    return out


@handles("check_in", "view")
def _check_in(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _target_attendance(state, actor, args)
    sitting = _open_sitting(state)
    if pid in sitting.present:
        return []
    return [ev.CheckedIn(sitting.id, pid, now.wall)]


@handles("check_out", "view")
def _check_out(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _target_attendance(state, actor, args)
    sitting = _open_sitting(state)
    if pid not in sitting.present:
        return []
    from appliance.meeting.floor import leave  # a feature module that imports us

    return [*leave(state, pid, now), ev.CheckedOut(sitting.id, pid, now.wall)]


def _target_attendance(state: SessionState, actor: Actor, args: dict[str, Any]) -> str:
    pid = args.get("participant_id") or actor.participant_id
    if pid == actor.participant_id and not actor.can("attendance.self"):
        raise refuse("forbidden")
    pid = _target(state, actor, args, "attendance.manage")
    if not state.participants[pid].is_delegate:
        raise refuse("invalid", "Chỉ đại biểu mới điểm danh.", "Only delegates check in.")
    return pid


@handles("start_item", "agenda.run")
def _start_item(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sitting = _open_sitting(state)
    item = args.get("item")
    if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= len(state.agenda):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    return [ev.ItemStarted(sitting.id, item, now.wall)]


def queue_order(state: SessionState) -> list[str]:
    """The floor's granting order; the floor rules live in ``floor.py`` (kept here for callers)."""
    from appliance.meeting.floor import queue_order as order

    return order(state)


# Feature modules register their command handlers with ``@handles`` on import.
from appliance.meeting import rule_modules  # noqa: E402,F401
