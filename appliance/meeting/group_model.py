"""Discussion groups (phân nhóm hội ý thảo luận) as the journal leaves them.

Kept apart from ``groups.py`` (the rules) so ``model.SessionState`` can hold a typed
board without importing the rules, which import the state themselves.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, PrivateAttr


class DocRef(BaseModel):
    """A page of a document a message points at ("xem trang 3 của tờ trình")."""

    doc: str
    page: int
    note: str | None = None  # a group-shared annotation on that page (documents' notes store)


class GroupMessage(BaseModel):
    """One message in a group's discussion."""

    id: str
    author: str
    text: str
    at: float
    ref: DocRef | None = None
    # The client view, built once: a message never changes, and the live hub compares
    # sections per publish, so identical objects make those comparisons cheap.
    _view: dict[str, Any] | None = PrivateAttr(default=None)


class GroupComment(BaseModel):
    """A member's comment on the convener's notes."""

    id: str
    author: str
    text: str
    at: float


class Group(BaseModel):
    """A discussion group (tổ thảo luận): members, a convener (tổ trưởng) and its record."""

    id: str
    name: str
    item: int | None = None  # the agenda item it discusses (1-based), if any
    members: list[str] = Field(default_factory=list)
    convener: str | None = None
    status: str = "open"  # open | closed
    opened_at: float = 0.0
    closes_at: float | None = None  # end of the discussion time; clients count down
    closed_at: float | None = None
    messages: list[GroupMessage] = Field(default_factory=list)
    notes: str = ""
    notes_at: float | None = None
    comments: list[GroupComment] = Field(default_factory=list)
    conclusions: str | None = None
    concluded_at: float | None = None
    concluded_by: str | None = None

    def open_at(self, wall: float) -> bool:
        """Whether the group takes contributions at ``wall`` (not closed, time not up)."""
        return self.status == "open" and (self.closes_at is None or wall < self.closes_at)


class GroupBoard(BaseModel):
    """Every group of the session, plus the body's setting and the display flag."""

    groups: dict[str, Group] = Field(default_factory=dict)
    chair_sees_group_messages: bool = False
    present_conclusions: bool = False

    def member_of(self, participant_id: str | None) -> list[str]:
        """Ids of the groups a participant belongs to, in creation order."""
        if participant_id is None:
            return []
        return [g.id for g in self.groups.values() if participant_id in g.members]
