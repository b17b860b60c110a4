"""The events of a session: what ``decide`` returns and the journal keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.core.events import Event, event


@event("session_set_up")
@dataclass(frozen=True)
class SessionSetUp(Event):
    """The secretary named the body and the session and planned its sittings."""

    body: str
    session: str
    sittings: tuple[tuple[str, str], ...]  # (id, title)
    rehearsal: bool = False


@event("participant_added")
@dataclass(frozen=True)
class ParticipantAdded(Event):
    """A delegate, guest, staff member or display joined the list."""

    id: str
    name: str
    role: str
    seat: int | None = None
    title: str = ""
    team: str = ""
    unit: str = ""  # đơn vị; journals written before it decode with ""


@event("agenda_item_added")
@dataclass(frozen=True)
class AgendaItemAdded(Event):
    """An item was added to the session's agenda."""

    id: str
    title: str


@event("document_added")
@dataclass(frozen=True)
class DocumentAdded(Event):
    """A document was ingested and attached to an agenda item."""

    id: str
    item_id: str
    title: str
    filename: str
    pages: int
    sizes: tuple[tuple[float, float], ...] = ()
    access: str = "delegates"
    blobs: dict[str, Any] = field(default_factory=dict)
    original_blob: str = ""
    text_blob: str = ""
    readers: tuple[str, ...] = ()
    watermark: bool = False
    pdf_blob: str = ""


@event("pairing_code_issued")
@dataclass(frozen=True)
class PairingCodeIssued(Event):
    """A one-time code for one participant; only its keyed digest is kept."""

    digest: str
    participant_id: str
    expires_at: float


@event("device_paired")
@dataclass(frozen=True)
class DevicePaired(Event):
    """A device claimed a code and got a credential bound to the code's participant."""

    device_id: str
    participant_id: str
    token_digest: str
    code_digest: str
    at: float


@event("sitting_opened")
@dataclass(frozen=True)
class SittingOpened(Event):
    """The chair opened a sitting, confirming the box's date and time."""

    sitting_id: str
    at: float
    mono: float
    confirmed_wall: float | None = None


@event("sitting_closed")
@dataclass(frozen=True)
class SittingClosed(Event):
    """The chair closed the sitting."""

    sitting_id: str
    at: float


@event("checked_in")
@dataclass(frozen=True)
class CheckedIn(Event):
    """A delegate is present (điểm danh)."""

    sitting_id: str
    participant_id: str
    at: float


@event("checked_out")
@dataclass(frozen=True)
class CheckedOut(Event):
    """A delegate left the hall."""

    sitting_id: str
    participant_id: str
    at: float


@event("item_started")
@dataclass(frozen=True)
class ItemStarted(Event):
    """The chair moved the sitting to an agenda item."""

    sitting_id: str
    item: int
    at: float


@event("floor_requested")
@dataclass(frozen=True)
class FloorRequested(Event):
    """A delegate asked to speak or to rebut."""

    participant_id: str
    kind: str
    at: float
    mono: float
    item: int | None = None  # the agenda item the request belongs to
    seq: float = 0.0  # place among requests of its kind (the chair may move it)


@event("floor_withdrawn")
@dataclass(frozen=True)
class FloorWithdrawn(Event):
    """A delegate cancelled their request."""

    participant_id: str
    at: float


@event("floor_granted")
@dataclass(frozen=True)
class FloorGranted(Event):
    """The chair gave the floor; the speaker's microphone opens."""

    participant_id: str
    kind: str
    at: float
    mono: float
    limit_s: float | None = None  # speaking time allowed; None: no limit (the chair)


@event("floor_ended")
@dataclass(frozen=True)
class FloorEnded(Event):
    """A speech ended; ``seconds`` is the time actually spoken (monotonic)."""

    participant_id: str
    at: float
    seconds: float


@event("poll_opened")
@dataclass(frozen=True)
class PollOpened(Event):
    """The chair opened a vote."""

    poll_id: str
    sitting_id: str
    item: int | None
    spec: dict[str, Any]
    at: float
    closes_at: float | None = None


@event("ballot_cast")
@dataclass(frozen=True)
class BallotCast(Event):
    """A delegate voted. For a secret poll ``choice`` is None: the choice is in the ballot box."""

    poll_id: str
    participant_id: str
    choice: Any = None


@event("poll_closed")
@dataclass(frozen=True)
class PollClosed(Event):
    """The vote closed; the result is fixed."""

    poll_id: str
    at: float
    result: dict[str, Any] = field(default_factory=dict)


@event("floor_moved")
@dataclass(frozen=True)
class FloorMoved(Event):
    """The chair moved a request within its kind's queue; ``seq`` is its new place."""

    participant_id: str
    item: int | None
    seq: float


@event("floor_extended")
@dataclass(frozen=True)
class FloorExtended(Event):
    """The chair gave a speaker more time; ``limit_s`` is the speech's new allowance."""

    participant_id: str
    seconds: float
    limit_s: float


@event("mic_mode_set")
@dataclass(frozen=True)
class MicModeSet(Event):
    """The chair changed the microphone policy (chế độ micro)."""

    mode: str
    max_open: int


@event("speech_limits_set")
@dataclass(frozen=True)
class SpeechLimitsSet(Event):
    """Speaking-time settings for the body (``item`` None) or one agenda item."""

    item: int | None
    limits: dict[str, float] = field(default_factory=dict)
    warn_s: float | None = None
    auto_off: bool | None = None
