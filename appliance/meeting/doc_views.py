"""What each viewer sees of "follow me" (the ``presenting`` section), and the audience key
of document sections: a confidential document names its readers, so two delegates of one
role may see different agendas and must never share a cached section (web/live.py)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from appliance.meeting.group_views import audience as group_audience
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import may_read, section_builder


@section_builder("presenting")
def presenting_section(state: SessionState, actor: Actor) -> dict[str, Any] | None:
    """The page the chair shows on every screen, for those who may read that document."""
    shown = state.presenting
    if not shown:
        return None
    doc = state.documents.get(str(shown.get("document")))
    if doc is None or not may_read(doc, actor, state):
        return None
    by = state.participants.get(str(shown.get("by")))
    return {**shown, "by_name": by.name if by else None}


def audience(state: SessionState, actor: Actor) -> Hashable:
    """Groups one belongs to, and the confidential documents one is named on."""
    pid = actor.participant_id
    named = tuple(d.id for d in state.documents.values() if pid is not None and pid in d.readers)
    return (group_audience(state, actor), named)
