"""What screens see of a poll's life cycle, and the list of prepared polls.

Imported by ``views`` at its end (it registers a section with ``section_builder``), never
from the rule modules: ``views`` must exist whole first.
"""

from __future__ import annotations

from typing import Any

from appliance.meeting.model import Poll, SessionState
from appliance.meeting.poll_commands import compute_result
from appliance.meeting.roles import Actor
from appliance.meeting.views import section_builder


def poll_extras(state: SessionState, poll: Poll) -> dict[str, Any]:
    """Life-cycle fields of a poll view; ``live`` only for public polls the chair opened with show_live."""
    live = None
    if poll.status == "open" and poll.show_live and poll.spec.get("method") == "public":
        live = {k: v for k, v in compute_result(state, poll.id).items() if k != "per_delegate"}
    return {
        "allow_correction": bool(poll.spec.get("allow_correction", False)),
        "show_live": poll.show_live,
        "live": live,
        "source": poll.source,
        "series": poll.series,
        "prepared_id": poll.prepared_id,
        "amend": poll.amend,
        "annulled": poll.annulled is not None,
        "annul_reason": poll.annulled,
        "repeat_of": poll.repeat_of,
        "repeated_by": poll.repeated_by,
    }


@section_builder("prepared")
def prepared_section(state: SessionState, actor: Actor) -> list[dict[str, Any]]:
    """Prepared polls for those who open or prepare them; nobody else needs the questions early."""
    if not (actor.can("poll.manage") or actor.can("poll.prepare")):
        return []
    out = []
    for p in sorted(state.prepared.values(), key=lambda p: (p.item or 0, p.series or "", p.step, p.id)):
        standing = [pid for pid in p.used_by if pid in state.polls and state.polls[pid].annulled is None]
        out.append({"id": p.id, "item": p.item, "series": p.series, "step": p.step,
                    "question": p.args.get("question"), "method": p.args.get("method", "public"),
                    "kind": p.args.get("kind"), "args": dict(p.args), "used_by": list(p.used_by),
                    "used": bool(standing)})
    return out


@section_builder("poll_progress")
def progress_section(state: SessionState, actor: Actor) -> dict[str, dict[str, Any]]:
    """Open polls' ballot counts (and opted-in partial results): all a ballot changes.

    A ballot used to resend the whole ``polls`` section — every earlier result with its
    per-delegate list — to every device; in a long sitting of 500 that buried the acks
    (bench/RESULTS.md). Clients fold this section into their polls (web_ui/live.js).
    """
    return {
        p.id: {"voted": len(p.voters), "live": poll_extras(state, p)["live"]}
        for p in state.polls.values()
        if p.status == "open"
    }

