"""How floor events change the state, and the floor section every screen reads.

Kept apart from the rules (``floor.py``) so each file stays readable; replaying the
journal runs only these appliers, never the rules.
"""

from __future__ import annotations

from typing import Any

from appliance.meeting import events as ev
from appliance.meeting import floor
from appliance.meeting import microphones as mics
from appliance.meeting.apply import applies
from appliance.meeting.model import FloorEntry, SessionState, Speech


@applies(ev.FloorRequested)
def _requested(s: SessionState, e: ev.FloorRequested) -> None:
    # Journals written before requests had an item or a place keep arrival order.
    seq = e.seq or max((x.seq for x in s.floor.queue), default=0.0) + 1.0
    s.floor.queue.append(
        FloorEntry(participant_id=e.participant_id, kind=e.kind, at=e.at, mono=e.mono, item=e.item, seq=seq)
    )


@applies(ev.FloorWithdrawn)
def _withdrawn(s: SessionState, e: ev.FloorWithdrawn) -> None:
    item = floor.current_item(s)
    s.floor.queue = [x for x in s.floor.queue if not (x.participant_id == e.participant_id and x.item == item)]


@applies(ev.FloorGranted)
def _granted(s: SessionState, e: ev.FloorGranted) -> None:
    item = floor.current_item(s)
    s.floor.queue = [x for x in s.floor.queue if not (x.participant_id == e.participant_id and x.item == item)]
    s.floor.speaking.append(
        FloorEntry(participant_id=e.participant_id, kind=e.kind, at=e.at, mono=e.mono, item=item, limit_s=e.limit_s)
    )


@applies(ev.FloorEnded)
def _ended(s: SessionState, e: ev.FloorEnded) -> None:
    speech = next((x for x in s.floor.speaking if x.participant_id == e.participant_id), None)
    s.floor.speaking = [x for x in s.floor.speaking if x.participant_id != e.participant_id]
    if speech is not None:
        s.floor.speeches.append(
            Speech(
                participant_id=e.participant_id,
                kind=speech.kind,
                item=speech.item if speech.item is not None else floor.current_item(s),
                started=speech.at,
                seconds=e.seconds,
                limit_s=speech.limit_s,
            )
        )


@applies(ev.FloorMoved)
def _moved(s: SessionState, e: ev.FloorMoved) -> None:
    for x in s.floor.queue:
        if x.participant_id == e.participant_id and x.item == e.item:
            x.seq = e.seq


@applies(ev.FloorExtended)
def _extended(s: SessionState, e: ev.FloorExtended) -> None:
    for x in s.floor.speaking:
        if x.participant_id == e.participant_id:
            x.limit_s = e.limit_s


@applies(ev.MicModeSet)
def _mode(s: SessionState, e: ev.MicModeSet) -> None:
    s.floor.mic_mode, s.floor.max_open = e.mode, e.max_open


@applies(ev.SpeechLimitsSet)
def _limits(s: SessionState, e: ev.SpeechLimitsSet) -> None:
    if e.item is None:
        s.floor.limits.update(e.limits)
    else:
        s.floor.item_limits.setdefault(str(e.item), {}).update(e.limits)
    if e.warn_s is not None:
        s.floor.warn_s = e.warn_s
    if e.auto_off is not None:
        s.floor.auto_off = e.auto_off


def floor_view(state: SessionState) -> dict[str, Any]:
    """The floor section: the current item's queue, speakers with their allowance, microphones.

    Clients count down from ``since`` (wall time of the grant) and ``limit_s``; the
    warning shows ``warn_s`` seconds before the end.
    """
    f = state.floor
    item = floor.current_item(state)
    return {
        "queue": [
            {"participant_id": e.participant_id, "kind": e.kind, "at": e.at, "item": e.item}
            for e in floor.waiting(state)
        ],
        "speaking": [
            {"participant_id": e.participant_id, "kind": e.kind, "since": e.at, "limit_s": e.limit_s}
            for e in f.speaking
        ],
        "mic_mode": f.mic_mode,
        "max_open": f.max_open,
        "mics_open": mics.heard(floor.policy(state), floor.open_mics(state)),
        "lists": {k: v for k, v in floor.lists_by_item(state).items() if k != str(item)},
        "limits": {**f.limits, **f.item_limits.get(str(item), {})},
        "warn_s": f.warn_s,
        "auto_off": f.auto_off,
    }
