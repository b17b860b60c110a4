"""Events of a poll's life cycle beyond open, ballot and close, and how they change the state.

They live apart from ``events.py`` so the poll life cycle (prepared polls, annulment,
correction, paper counts, agenda amendments) can grow without touching shared files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.core.events import Event, event
from appliance.meeting.apply import applies
from appliance.meeting.model import PreparedPoll, SessionState


@event("poll_prepared")
@dataclass(frozen=True)
class PollPrepared(Event):
    """The secretary prepared a poll (or one step of a series) for an agenda item."""

    id: str
    item: int | None
    args: dict[str, Any]
    series: str | None = None
    step: int = 0


@event("prepared_poll_removed")
@dataclass(frozen=True)
class PreparedPollRemoved(Event):
    """A prepared poll that will not be used was taken off the list."""

    id: str


@event("poll_settings")
@dataclass(frozen=True)
class PollSettings(Event):
    """How a poll was opened, beyond its spec; recorded right after ``poll_opened``."""

    poll_id: str
    show_live: bool = False
    source: str = "electronic"
    prepared_id: str | None = None
    series: str | None = None
    amend: dict[str, Any] | None = None
    repeat_of: str | None = None


@event("ballot_corrected")
@dataclass(frozen=True)
class BallotCorrected(Event):
    """A delegate changed their public ballot before close (only if the poll allows it)."""

    poll_id: str
    participant_id: str
    choice: Any = None


@event("poll_annulled")
@dataclass(frozen=True)
class PollAnnulled(Event):
    """The chair annulled a poll (hủy kết quả); its record stays, flagged, with the reason."""

    poll_id: str
    reason: str
    at: float
    repeated_by: str | None = None


@event("agenda_item_retitled")
@dataclass(frozen=True)
class AgendaItemRetitled(Event):
    """A passed amendment changed an agenda item's title (điều chỉnh chương trình)."""

    item_id: str
    title: str


@event("paper_counts_entered")
@dataclass(frozen=True)
class PaperCountsEntered(Event):
    """The secretary entered the counts of a paper ballot; kept verbatim for the minutes."""

    poll_id: str
    counts: dict[str, Any] = field(default_factory=dict)
    invalid: int = 0


@applies(PollPrepared)
def _prepared(s: SessionState, e: PollPrepared) -> None:
    s.prepared[e.id] = PreparedPoll(id=e.id, item=e.item, args=dict(e.args), series=e.series, step=e.step)


@applies(PreparedPollRemoved)
def _removed(s: SessionState, e: PreparedPollRemoved) -> None:
    s.prepared.pop(e.id, None)


@applies(PollSettings)
def _settings(s: SessionState, e: PollSettings) -> None:
    poll = s.polls[e.poll_id]
    poll.show_live, poll.source = e.show_live, e.source
    poll.prepared_id, poll.series, poll.repeat_of = e.prepared_id, e.series, e.repeat_of
    poll.amend = dict(e.amend) if e.amend else None
    if e.prepared_id and e.prepared_id in s.prepared:
        s.prepared[e.prepared_id].used_by.append(e.poll_id)


@applies(BallotCorrected)
def _corrected(s: SessionState, e: BallotCorrected) -> None:
    s.polls[e.poll_id].ballots[e.participant_id] = e.choice


@applies(PollAnnulled)
def _annulled(s: SessionState, e: PollAnnulled) -> None:
    poll = s.polls[e.poll_id]
    poll.annulled, poll.repeated_by = e.reason, e.repeated_by


@applies(AgendaItemRetitled)
def _retitled(s: SessionState, e: AgendaItemRetitled) -> None:
    for item in s.agenda:
        if item.id == e.item_id:
            item.title = e.title


@applies(PaperCountsEntered)
def _paper(s: SessionState, e: PaperCountsEntered) -> None:
    # The counts are in the poll's result (poll_closed, same record); nothing else to keep.
    s.polls[e.poll_id].source = "paper"
