"""The public display — màn hình công khai: what anyone in the gallery or outside may see.

Optional, off until the secretary turns it on. It serves without a credential, so it
carries only what is announced in the hall anyway: the body, the sitting, the item under
discussion, who has the floor, the attendance count and the results of closed polls —
totals only, never who voted how (not even for public polls), never a document, a
group's discussion or a guest list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.decide import handles
from appliance.meeting.model import SessionState, quorum_needed
from appliance.meeting.roles import Actor

RESULT_KEYS = ("base", "base_kind", "threshold", "turnout", "counts", "shares", "passed", "elected", "tie")


@event("public_display_set")
@dataclass(frozen=True)
class PublicDisplaySet(Event):
    """The secretary turned the public display on or off."""

    enabled: bool


@handles("set_public_display", "session.manage")
def _set(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    enabled = args.get("enabled")
    if not isinstance(enabled, bool):
        raise refuse("invalid", "'enabled' phải là true hoặc false.", "'enabled' must be true or false.")
    return [] if state.hall_options.public_display == enabled else [PublicDisplaySet(enabled)]


@applies(PublicDisplaySet)
def _applied(s: SessionState, e: PublicDisplaySet) -> None:
    s.hall_options.public_display = e.enabled


def public_view(state: SessionState) -> dict[str, Any]:
    """The public facts of the session, as the public display shows them."""
    sitting = state.sitting()
    item = None
    if sitting is not None and sitting.current_item and 1 <= sitting.current_item <= len(state.agenda):
        item = {"n": sitting.current_item, "title": state.agenda[sitting.current_item - 1].title}
    total = state.total_delegates()
    present = state.present_delegates()
    speakers = [
        {"name": state.participants[e.participant_id].name}
        for e in state.floor.speaking
        if e.participant_id in state.participants
    ]
    polls = []
    for poll in state.polls.values():
        if poll.status != "closed" or poll.result is None or poll.annulled:
            continue
        polls.append({
            "id": poll.id,
            "question": poll.spec.get("question"),
            "method": poll.spec.get("method"),
            "result": {k: poll.result[k] for k in RESULT_KEYS if k in poll.result},
        })
    return {
        "body": state.body,
        "session": state.session,
        "rehearsal": state.rehearsal,
        "sitting": {"title": sitting.title, "status": sitting.status} if sitting else None,
        "item": item,
        "speaking": speakers,
        "attendance": {"present": present, "total": total, "needed": quorum_needed(total),
                       "quorum": total > 0 and present >= quorum_needed(total)},
        "polls": polls[-5:],
        "labels": dict(state.labels),
        "position": state.position,
    }
