"""Editing the participant list after import — sửa, xóa thành phần tham dự.

The secretary corrects a name, a title, a unit or a team, and removes a person entered by
mistake. Removal is refused once the person is part of a sitting's record (a ballot, a
speech, a request to speak, a group contribution) and, for a delegate, while a sitting is
open (the base of quorum and of every "of all delegates" rule would move under it).
Removing someone revokes their paired devices, so each tablet's live channel closes and
wipes itself (``web.trust``), and drops their pairing codes, seat cards and PIN. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.decide import _participant, _text, handles
from appliance.meeting.device_trust import DeviceRevoked
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor

# Field -> its longest value, as the list import allows (meeting/roster.py).
EDITABLE: dict[str, int] = {"name": 200, "title": 2000, "unit": 1000, "team": 200}


@event("participant_edited")
@dataclass(frozen=True)
class ParticipantEdited(Event):
    """A participant's name, title, unit and team as the secretary corrected them."""

    participant_id: str
    name: str
    title: str
    unit: str
    team: str


@event("participant_removed")
@dataclass(frozen=True)
class ParticipantRemoved(Event):
    """A participant left the list (their devices are revoked by events before this one)."""

    participant_id: str





@handles("edit_participant", "participant.manage")
def _edit(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _participant(state, args.get("participant_id"))
    person = state.participants[pid]
    given = [k for k in EDITABLE if k in args]
    if not given:
        raise refuse("invalid", "Không có trường nào để sửa.", f"Nothing to change: give one of {', '.join(EDITABLE)}.")
    values = {k: getattr(person, k) for k in EDITABLE}
    for key in given:
        values[key] = _text(args, key, required=key == "name", limit=EDITABLE[key], one_line=True)
    edited = person.model_copy(update=values)
    twin = next((p for p in state.participants.values() if p.id != pid and p.identity() == edited.identity()), None)
    if twin is not None:
        # Two people may share a name; the same name, title, unit and team is one person twice.
        raise refuse(
            "conflict",
            f"Đã có {twin.name} cùng chức vụ, đơn vị và tổ: đây là một người.",
            f"{twin.name} is already listed with the same title, unit and team: that is one person.",
            participant_id=twin.id,
        )
    if all(values[k] == getattr(person, k) for k in EDITABLE):
        return []
    return [ParticipantEdited(pid, values["name"], values["title"], values["unit"], values["team"])]


def _record_of(state: SessionState, pid: str) -> tuple[str, str] | None:
    """Why the sitting record holds this person (Vietnamese, English), or None."""
    if any(pid in poll.voters for poll in state.polls.values()):
        return "đã biểu quyết", "has voted"
    floor = state.floor
    if any(s.participant_id == pid for s in floor.speeches) or any(e.participant_id == pid for e in floor.speaking):
        return "đã phát biểu", "has spoken"
    if any(e.participant_id == pid for e in floor.queue):
        return "đang đăng ký phát biểu", "is waiting for the floor"
    for group in state.groups.groups.values():
        authors = {m.author for m in group.messages} | {c.author for c in group.comments}
        if group.concluded_by == pid or pid in authors:
            return "đã phát biểu trong tổ thảo luận", "has spoken in a discussion group"
    return None


@handles("remove_participant", "participant.manage")
def _remove(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _participant(state, args.get("participant_id"))
    person = state.participants[pid]
    if pid == actor.participant_id:
        raise refuse("conflict", "Không thể tự xóa mình khỏi danh sách.", "You cannot remove yourself from the list.")
    record = _record_of(state, pid)
    if record is not None:
        raise refuse(
            "conflict",
            f"{person.name} {record[0]}: không thể xóa khỏi danh sách.",
            f"{person.name} {record[1]}: they cannot be removed from the list.",
            participant_id=pid,
        )
    sitting = state.sitting()
    if person.is_delegate and sitting is not None and sitting.status == "open":
        raise refuse(
            "conflict",
            "Đang họp: không thể thêm hay bớt đại biểu của Hội đồng.",
            "A sitting is open: the body's delegates cannot change now.",
            participant_id=pid,
        )
    if any(pid in s.present for s in state.sittings):
        raise refuse(
            "conflict",
            f"{person.name} đã điểm danh trong một phiên họp: không thể xóa khỏi danh sách.",
            f"{person.name} checked in to a sitting: they cannot be removed from the list.",
            participant_id=pid,
        )
    if person.is_delegate and any(s.status != "planned" for s in state.sittings):
        # The body's size is the base of every vote and of quorum: once a sitting has met,
        # taking a delegate off the list would change the figures of its record.
        raise refuse(
            "conflict",
            "Kỳ họp đã có phiên họp: không thể bớt đại biểu của Hội đồng (tổng số đại biểu là căn cứ tính kết quả).",
            "A sitting of this session has met: the body's delegates cannot be removed (their number is the base of every result).",
            participant_id=pid,
        )
    revoked: list[Event] = [
        DeviceRevoked(d.id, now.wall) for d in state.devices.values() if d.participant_id == pid and not d.revoked
    ]
    return [*revoked, ParticipantRemoved(pid)]


@applies(ParticipantEdited)
def _edited(s: SessionState, e: ParticipantEdited) -> None:
    person = s.participants.get(e.participant_id)
    if person is not None:
        person.name, person.title, person.unit, person.team = e.name, e.title, e.unit, e.team


@applies(ParticipantRemoved)
def _removed(s: SessionState, e: ParticipantRemoved) -> None:
    pid = e.participant_id
    s.participants.pop(pid, None)
    for sitting in s.sittings:
        if pid in sitting.present:
            sitting.present.remove(pid)
    # An unused code or seat card must not pair a device to nobody.
    for code in s.codes.values():
        if code.participant_id == pid:
            code.used = True
    for card in s.trust.cards.values():
        if card.participant_id == pid:
            card.used = True
    s.attendance_rules.pins.pop(pid, None)
    for group in s.groups.groups.values():
        if pid in group.members:
            group.members.remove(pid)
        if group.convener == pid:
            group.convener = None
    for doc in s.documents.values():
        if pid in doc.readers:
            doc.readers.remove(pid)
