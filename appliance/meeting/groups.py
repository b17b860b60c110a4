"""Discussion groups — phân nhóm hội ý thảo luận: the events and how they change the state.

The commands that cause these events are judged in ``group_rules``; what each viewer
sees is built in ``group_views``. Everything here goes through the journal like any
other event, so messages, notes and conclusions are sealed at rest and replayed on
start-up, and the conclusions are part of the record the minutes are read from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.group_model import DocRef, Group, GroupComment, GroupMessage
from appliance.meeting.model import SessionState


@event("group_created")
@dataclass(frozen=True)
class GroupCreated(Event):
    """The chair or the secretary formed a group."""

    id: str
    name: str
    item: int | None
    members: tuple[str, ...]
    convener: str | None
    at: float
    closes_at: float | None = None


@event("group_closed")
@dataclass(frozen=True)
class GroupClosed(Event):
    """The discussion ended; the group takes no more messages (its convener may still report)."""

    group_id: str
    at: float


@event("group_reopened")
@dataclass(frozen=True)
class GroupReopened(Event):
    """The discussion resumed, possibly with a new time limit."""

    group_id: str
    at: float
    closes_at: float | None = None


@event("group_convener_set")
@dataclass(frozen=True)
class GroupConvenerSet(Event):
    """Another member became the convener (tổ trưởng)."""

    group_id: str
    convener: str


@event("group_message_posted")
@dataclass(frozen=True)
class GroupMessagePosted(Event):
    """A member wrote in the group; ``doc``/``page`` point at a document page when given."""

    id: str
    group_id: str
    author: str
    text: str
    at: float
    doc: str | None = None
    page: int | None = None
    note: str | None = None  # the id of an annotation shared with the group, on that page


@event("group_notes_edited")
@dataclass(frozen=True)
class GroupNotesEdited(Event):
    """The convener replaced the group's shared notes."""

    group_id: str
    text: str
    at: float
    by: str


@event("group_comment_added")
@dataclass(frozen=True)
class GroupCommentAdded(Event):
    """A member commented on the notes."""

    id: str
    group_id: str
    author: str
    text: str
    at: float


@event("group_conclusions_submitted")
@dataclass(frozen=True)
class GroupConclusionsSubmitted(Event):
    """The convener reported the group's conclusions back to the hall (for the minutes)."""

    group_id: str
    text: str
    at: float
    by: str


@event("group_conclusions_presented")
@dataclass(frozen=True)
class GroupConclusionsPresented(Event):
    """The chair put the groups' conclusions on the hall display, or took them down."""

    show: bool
    at: float


@event("group_settings_changed")
@dataclass(frozen=True)
class GroupSettingsChanged(Event):
    """The body's setting: whether the chair may read the groups' discussions."""

    chair_sees_group_messages: bool


GROUP_EVENTS = (
    "group_created",
    "group_closed",
    "group_reopened",
    "group_convener_set",
    "group_message_posted",
    "group_notes_edited",
    "group_comment_added",
    "group_conclusions_submitted",
    "group_conclusions_presented",
    "group_settings_changed",
)


def _group(s: SessionState, gid: str) -> Group:
    return s.groups.groups[gid]


@applies(GroupCreated)
def _created(s: SessionState, e: GroupCreated) -> None:
    s.groups.groups[e.id] = Group(
        id=e.id,
        name=e.name,
        item=e.item,
        members=list(e.members),
        convener=e.convener,
        opened_at=e.at,
        closes_at=e.closes_at,
    )


@applies(GroupClosed)
def _closed(s: SessionState, e: GroupClosed) -> None:
    group = _group(s, e.group_id)
    group.status, group.closed_at = "closed", e.at


@applies(GroupReopened)
def _reopened(s: SessionState, e: GroupReopened) -> None:
    group = _group(s, e.group_id)
    group.status, group.closed_at, group.closes_at = "open", None, e.closes_at


@applies(GroupConvenerSet)
def _convener(s: SessionState, e: GroupConvenerSet) -> None:
    _group(s, e.group_id).convener = e.convener


@applies(GroupMessagePosted)
def _message(s: SessionState, e: GroupMessagePosted) -> None:
    ref = DocRef(doc=e.doc, page=e.page, note=e.note) if e.doc is not None and e.page is not None else None
    _group(s, e.group_id).messages.append(GroupMessage(id=e.id, author=e.author, text=e.text, at=e.at, ref=ref))


@applies(GroupNotesEdited)
def _notes(s: SessionState, e: GroupNotesEdited) -> None:
    group = _group(s, e.group_id)
    group.notes, group.notes_at = e.text, e.at


@applies(GroupCommentAdded)
def _comment(s: SessionState, e: GroupCommentAdded) -> None:
    _group(s, e.group_id).comments.append(GroupComment(id=e.id, author=e.author, text=e.text, at=e.at))


@applies(GroupConclusionsSubmitted)
def _conclusions(s: SessionState, e: GroupConclusionsSubmitted) -> None:
    group = _group(s, e.group_id)
    group.conclusions, group.concluded_at, group.concluded_by = e.text, e.at, e.by


@applies(GroupConclusionsPresented)
def _presented(s: SessionState, e: GroupConclusionsPresented) -> None:
    s.groups.present_conclusions = e.show


@applies(GroupSettingsChanged)
def _settings(s: SessionState, e: GroupSettingsChanged) -> None:
    s.groups.chair_sees_group_messages = e.chair_sees_group_messages


def minutes(state: SessionState) -> list[dict[str, Any]]:
    """The groups' conclusions as the minutes record them: one entry per group, in order."""
    return [
        {
            "id": g.id,
            "name": g.name,
            "item": g.item,
            "members": list(g.members),
            "convener": g.convener,
            "conclusions": g.conclusions,
            "concluded_at": g.concluded_at,
        }
        for g in state.groups.groups.values()
    ]


# The commands that cause these events register on import.
from appliance.meeting import group_rules  # noqa: E402,F401
