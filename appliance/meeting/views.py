"""What each role sees: the /api/state shape of docs/CONTRACTS.md, filtered before it leaves the box."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.meeting.model import DocumentMeta, Poll, SessionState, quorum_needed
from appliance.meeting.roles import DELEGATE_ROLES, Actor

SECTIONS = (
    "body",
    "session",
    "sitting",
    "sittings",
    "agenda",
    "documents",
    "participants",
    "attendance",
    "floor",
    "polls",
)


def may_read(doc: DocumentMeta, actor: Actor, state: SessionState | None = None) -> bool:
    """Access levels: public for all readers; delegates for delegates and staff; confidential by
    permission; ``group:ID`` for that group's members and the secretary (needs ``state``)."""
    if not actor.can("document.read"):
        return False
    if doc.access == "public":
        return True
    if doc.access == "delegates":
        return actor.role in DELEGATE_ROLES or actor.role == "secretary"
    if doc.access.startswith("group:"):
        group = state.groups.groups.get(doc.access[6:]) if state is not None else None
        return actor.role == "secretary" or (group is not None and actor.participant_id in group.members)
    # Confidential ("mật"): the participants named on it, and the presiding officers and secretary.
    return actor.can("document.read.confidential") or (actor.participant_id is not None and actor.participant_id in doc.readers)


def document_view(doc: DocumentMeta, state: SessionState, actor: Actor | None = None) -> dict[str, Any]:
    """A document as clients see it (no blob ids)."""
    item_n = next((i + 1 for i, it in enumerate(state.agenda) if it.id == doc.item_id), None)
    return {
        "id": doc.id,
        "title": doc.title,
        "item": item_n,
        "pages": doc.pages,
        "access": doc.access,
        "filename": doc.filename,
        "sizes": doc.sizes,
        "readers": list(doc.readers),
        "watermark": doc.watermark,
        "version": doc.version,
        "replaces": doc.replaces,
        "replaced_by": doc.replaced_by,
        "downloadable": actor is not None and may_download(doc, actor),
    }


def may_download(doc: DocumentMeta, actor: Actor) -> bool:
    """The original file: roles allowed to download, and never a watermarked one unless one manages documents."""
    if not actor.can("document.download") and not actor.can("document.manage"):
        return False
    return not doc.watermark or actor.can("document.manage")


def poll_view(state: SessionState, poll: Poll, actor: Actor | None = None) -> dict[str, Any]:
    """A poll with its live count and, once closed, its result."""
    spec = poll.spec
    result = poll.result
    if result is not None and spec.get("method") != "public":
        result = {k: v for k, v in result.items() if k != "per_delegate"}
    return {
        "id": poll.id,
        "question": spec.get("question"),
        "method": spec.get("method"),
        "kind": spec.get("kind"),
        "rule": spec.get("rule"),
        "answers": list(spec.get("answers") or []),
        "candidates": list(spec.get("candidates") or []),
        "choose": spec.get("choose"),
        "item": poll.item,
        "status": poll.status,
        "voted": len(poll.voters),
        "opened_at": poll.opened_at,
        "closes_at": poll.closes_at,
        "result": result,
        **poll_views.poll_extras(state, poll),
    }


SectionBuilder = Callable[[SessionState, Actor], Any]
# Sections contributed by feature modules (groups, ...): name -> builder.
EXTRA_SECTIONS: dict[str, SectionBuilder] = {}


def section_builder(name: str) -> Callable[[SectionBuilder], SectionBuilder]:
    """Register a top-level view section from a feature module."""

    def wrap(fn: SectionBuilder) -> SectionBuilder:
        EXTRA_SECTIONS[name] = fn
        return fn

    return wrap


def section_names() -> tuple[str, ...]:
    """Every top-level section, built-in first."""
    return (*SECTIONS, *EXTRA_SECTIONS)


def section(state: SessionState, name: str, actor: Actor) -> Any:
    """One top-level section of the view."""
    if name in EXTRA_SECTIONS:
        return EXTRA_SECTIONS[name](state, actor)
    sitting = state.sitting()
    if name == "body":
        return {"name": state.body, "total_delegates": state.total_delegates(), "labels": dict(state.labels)}
    if name == "session":
        return {"title": state.session, "rehearsal": state.rehearsal}
    if name == "sitting":
        if sitting is None:
            return None
        return {
            "id": sitting.id,
            "title": sitting.title,
            "status": sitting.status,
            "current_item": sitting.current_item,
            "opened_at": sitting.opened_at,
            "clock_skew_s": sitting.clock_skew_s,
        }
    if name == "sittings":
        return [{"id": s.id, "title": s.title, "status": s.status} for s in state.sittings]
    if name == "agenda":
        return [
            {
                "n": i + 1,
                "id": it.id,
                "title": it.title,
                "documents": [d for d in it.documents if d in state.documents and may_read(state.documents[d], actor, state)],
            }
            for i, it in enumerate(state.agenda)
        ]
    if name == "documents":
        return {d.id: document_view(d, state, actor) for d in state.documents.values() if d.replaced_by is None and may_read(d, actor, state)}
    if name == "participants":
        return [
            {"id": p.id, "name": p.name, "role": p.role, "seat": p.seat, "title": p.title, "unit": p.unit, "team": p.team}
            for p in sorted(state.participants.values(), key=lambda p: (p.seat or 10**6, p.id))
        ]
    if name == "attendance":
        total = state.total_delegates()
        present = state.present_delegates()
        return {
            "present": present,
            "total": total,
            "needed": quorum_needed(total),
            "quorum": total > 0 and present >= quorum_needed(total),
            "present_ids": list(sitting.present) if sitting else [],
        }
    if name == "floor":
        from appliance.meeting.floor_state import floor_view

        return floor_view(state)
    if name == "polls":
        # Per-delegate lists stay in GET /api/polls/{id} and the minutes; screens load one when
        # a delegate opens it. Each close sends this section to every device: with the lists in
        # it, a sitting of 500 took seconds to reach the last tablet (bench/RESULTS.md).
        polls = [poll_view(state, p, actor) for p in state.polls.values()]
        for v in polls:
            if v["result"] and "per_delegate" in v["result"]:
                v["result"] = {k: x for k, x in v["result"].items() if k != "per_delegate"}
        return polls
    raise KeyError(name)


def me_view(state: SessionState, actor: Actor) -> dict[str, Any]:
    """The viewer's own facts: presence and which polls they voted in (never how)."""
    pid = actor.participant_id
    sitting = state.sitting()
    return {
        "participant_id": pid,
        "role": actor.role,
        "present": bool(sitting and pid in sitting.present),
        "voted": [p.id for p in state.polls.values() if pid in p.voters],
    }


def view_for(state: SessionState, actor: Actor) -> dict[str, Any]:
    """The whole view for one viewer."""
    out: dict[str, Any] = {"position": state.position}
    for name in section_names():
        out[name] = section(state, name, actor)
    out["me"] = me_view(state, actor)
    return out


def live_public_counts(state: SessionState, poll_id: str) -> dict[str, Any]:
    """A provisional result of an open public poll (shown only if the chair chooses)."""
    from appliance.meeting.poll_commands import compute_result

    return compute_result(state, poll_id)


# Poll life-cycle fields and the prepared-polls section (a module import: see poll_views).
import appliance.meeting.poll_views as poll_views  # noqa: E402

# Feature sections that need this module whole register here (importing them from the rule
# modules would run before ``section_builder`` exists when views is imported first).
from appliance.meeting import doc_views, group_views  # noqa: E402,F401
