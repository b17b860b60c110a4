"""What each viewer sees of the discussion groups — the ``groups`` section of the view.

Only members see anything of a group's discussion. The chair, vice chair and secretary
see that groups exist, their members, status and conclusions — not their messages,
unless the body allows the chair to (``chair_sees_group_messages``). Guests, the
technician and the hall display see nothing of a group until the chair presents the
conclusions, which then show on every screen like the hall display itself.

The section differs between participants of one role, so the live hub caches it by
``audience`` (role, permissions and the groups one belongs to), never by role alone.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from appliance.meeting.group_model import Group, GroupMessage
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import section_builder

# Messages carried live: each post resends its group's section to every member, so a small
# window keeps the fan-out cheap; tablets merge by id and read the whole list from
# /api/groups/{id}/messages when the count shows a gap (web_ui/groups.js).
RECENT = 5
PRESIDING = ("chair", "vice_chair")


def is_member(group: Group, actor: Actor) -> bool:
    """Whether the viewer belongs to the group."""
    return actor.participant_id is not None and actor.participant_id in group.members


def may_see_group(state: SessionState, group: Group, actor: Actor) -> bool:
    """Members, and those who form groups (they see that it exists and how it stands)."""
    return is_member(group, actor) or actor.can("group.manage")


def may_see_messages(state: SessionState, group: Group, actor: Actor) -> bool:
    """Members; the chair only when the body's setting allows it."""
    if is_member(group, actor):
        return True
    return actor.role in PRESIDING and actor.can("group.manage") and state.groups.chair_sees_group_messages


def message_view(m: GroupMessage) -> dict[str, Any]:
    """A message as clients see it (built once per message; callers must not mutate it)."""
    if m._view is None:
        ref: dict[str, Any] | None = None
        if m.ref is not None:
            ref = {"doc": m.ref.doc, "page": m.ref.page}
            if m.ref.note is not None:
                ref["note"] = m.ref.note
        m._view = {"id": m.id, "author": m.author, "text": m.text, "at": m.at, "ref": ref}
    return m._view


def group_view(state: SessionState, group: Group, actor: Actor, recent: int | None = RECENT) -> dict[str, Any]:
    """One group as ``actor`` may see it (call only when ``may_see_group``)."""
    out: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "item": group.item,
        "members": list(group.members),
        "convener": group.convener,
        "status": group.status,
        "opened_at": group.opened_at,
        "closes_at": group.closes_at,
        "closed_at": group.closed_at,
        "conclusions": group.conclusions,
        "concluded_at": group.concluded_at,
        "member": is_member(group, actor),
    }
    if may_see_messages(state, group, actor):
        shown = group.messages if recent is None else group.messages[-recent:]
        out["message_count"] = len(group.messages)
        out["messages"] = [message_view(m) for m in shown]
        out["notes"] = group.notes
        out["notes_at"] = group.notes_at
        out["comments"] = [{"id": c.id, "author": c.author, "text": c.text, "at": c.at} for c in group.comments]
    return out


def presented(state: SessionState) -> list[dict[str, Any]]:
    """The conclusions side by side, as the hall display shows them."""
    if not state.groups.present_conclusions:
        return []
    return [
        {"id": g.id, "name": g.name, "item": g.item, "conclusions": g.conclusions}
        for g in state.groups.groups.values()
        if g.conclusions
    ]


@section_builder("groups")
def groups_section(state: SessionState, actor: Actor) -> dict[str, Any]:
    """The ``groups`` section: the groups this viewer may see, and what the hall is shown."""
    board = state.groups
    visible = (
        [group_view(state, g, actor) for g in board.groups.values() if may_see_group(state, g, actor)]
        if actor.can("group.read")
        else []
    )
    return {
        "groups": visible,
        "present_conclusions": board.present_conclusions,
        "chair_sees_group_messages": board.chair_sees_group_messages,
        "presented": presented(state),
    }


def audience(state: SessionState, actor: Actor) -> Hashable:
    """Everything ``groups_section`` reads of the viewer besides role and permissions."""
    return tuple(state.groups.member_of(actor.participant_id))
