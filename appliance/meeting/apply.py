"""Apply an event to the state. Deterministic: replaying the journal rebuilds the state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.core.events import Event
from appliance.meeting import events as ev
from appliance.meeting.model import (
    AgendaItem,
    Device,
    DocumentMeta,
    PairingCode,
    Participant,
    Poll,
    SessionState,
    Sitting,
)

_APPLIERS: dict[type[Event], Callable[[SessionState, Any], None]] = {}


def applies(kind: type[Event]) -> Callable[[Callable[[SessionState, Any], None]], Callable[[SessionState, Any], None]]:
    """Register how an event changes the state (feature modules register theirs too)."""

    def wrap(fn: Callable[[SessionState, Any], None]) -> Callable[[SessionState, Any], None]:
        _APPLIERS[kind] = fn
        return fn

    return wrap


def apply(state: SessionState, event: Event, position: int) -> None:
    """Fold one event into the state and move it to ``position``."""
    fn = _APPLIERS.get(type(event))
    if fn is None:
        raise ValueError(f"no applier for {event.type}")
    fn(state, event)
    state.position = position


@applies(ev.SessionSetUp)
def _setup(s: SessionState, e: ev.SessionSetUp) -> None:
    s.body, s.session, s.rehearsal = e.body, e.session, e.rehearsal
    s.sittings = [Sitting(id=sid, title=title) for sid, title in e.sittings]
    s.current_sitting = s.sittings[0].id if s.sittings else None


@applies(ev.ParticipantAdded)
def _participant(s: SessionState, e: ev.ParticipantAdded) -> None:
    s.participants[e.id] = Participant(
        id=e.id, name=e.name, role=e.role, seat=e.seat, title=e.title, team=e.team, unit=e.unit
    )


@applies(ev.AgendaItemAdded)
def _item(s: SessionState, e: ev.AgendaItemAdded) -> None:
    s.agenda.append(AgendaItem(id=e.id, title=e.title))


@applies(ev.DocumentAdded)
def _document(s: SessionState, e: ev.DocumentAdded) -> None:
    s.documents[e.id] = DocumentMeta(
        id=e.id,
        item_id=e.item_id,
        title=e.title,
        filename=e.filename,
        pages=e.pages,
        sizes=[list(x) for x in e.sizes],
        access=e.access,
        blobs={k: list(v) for k, v in e.blobs.items()},
        original_blob=e.original_blob,
        text_blob=e.text_blob,
        readers=list(e.readers),
        watermark=e.watermark,
        pdf_blob=e.pdf_blob,
    )
    for item in s.agenda:
        if item.id == e.item_id:
            item.documents.append(e.id)


@applies(ev.PairingCodeIssued)
def _code(s: SessionState, e: ev.PairingCodeIssued) -> None:
    s.codes[e.digest] = PairingCode(digest=e.digest, participant_id=e.participant_id, expires_at=e.expires_at)


@applies(ev.DevicePaired)
def _paired(s: SessionState, e: ev.DevicePaired) -> None:
    s.devices[e.device_id] = Device(
        id=e.device_id, participant_id=e.participant_id, token_digest=e.token_digest, paired_at=e.at
    )
    if e.code_digest in s.codes:
        s.codes[e.code_digest].used = True


def _sitting(s: SessionState, sid: str) -> Sitting:
    return next(x for x in s.sittings if x.id == sid)


@applies(ev.SittingOpened)
def _opened(s: SessionState, e: ev.SittingOpened) -> None:
    sitting = _sitting(s, e.sitting_id)
    sitting.status, sitting.opened_at = "open", e.at
    s.current_sitting = sitting.id
    s.floor.queue.clear()
    s.floor.speaking.clear()


@applies(ev.SittingClosed)
def _closed(s: SessionState, e: ev.SittingClosed) -> None:
    sitting = _sitting(s, e.sitting_id)
    sitting.status, sitting.closed_at = "closed", e.at
    s.floor.queue.clear()


@applies(ev.CheckedIn)
def _in(s: SessionState, e: ev.CheckedIn) -> None:
    sitting = _sitting(s, e.sitting_id)
    if e.participant_id not in sitting.present:
        sitting.present.append(e.participant_id)


@applies(ev.CheckedOut)
def _out(s: SessionState, e: ev.CheckedOut) -> None:
    sitting = _sitting(s, e.sitting_id)
    if e.participant_id in sitting.present:
        sitting.present.remove(e.participant_id)


@applies(ev.ItemStarted)
def _item_started(s: SessionState, e: ev.ItemStarted) -> None:
    _sitting(s, e.sitting_id).current_item = e.item


@applies(ev.PollOpened)
def _poll_opened(s: SessionState, e: ev.PollOpened) -> None:
    s.polls[e.poll_id] = Poll(
        id=e.poll_id, sitting_id=e.sitting_id, item=e.item, spec=dict(e.spec), opened_at=e.at, closes_at=e.closes_at
    )


@applies(ev.BallotCast)
def _ballot(s: SessionState, e: ev.BallotCast) -> None:
    poll = s.polls[e.poll_id]
    poll.voters.append(e.participant_id)
    if poll.spec.get("method") == "public":
        poll.ballots[e.participant_id] = e.choice


@applies(ev.PollClosed)
def _poll_closed(s: SessionState, e: ev.PollClosed) -> None:
    poll = s.polls[e.poll_id]
    poll.status, poll.result = "closed", dict(e.result)
