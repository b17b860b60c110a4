"""The state of a session (kỳ họp) as the journal's events leave it.

Plain pydantic models: mutable in place by ``apply``, dumped whole into sealed
snapshots. Secret choices never live here (see ``SecretTallies``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from appliance.meeting.group_model import GroupBoard
from appliance.meeting.minutes_model import SittingMinutes
from appliance.meeting.roles import DELEGATE_ROLES
from appliance.meeting.seating_model import AttendanceRules, CustomRole, HallOptions, SeatingPlan
from appliance.meeting.trust_model import TrustBoard

STATE_VERSION = 1


def person_key(name: str, title: str, unit: str, team: str) -> tuple[str, ...]:
    """Same name, title, unit and team, ignoring case only: "Lê Thị Hà" and "Lê Thị Hạ" are two people."""
    return tuple(v.casefold() for v in (name, title, unit, team))


class Participant(BaseModel):
    """A person in the hall: a delegate (đại biểu), a guest, staff or a hall display."""

    id: str
    name: str
    role: str
    seat: int | None = None
    title: str = ""
    team: str = ""
    unit: str = ""  # đơn vị: its own column of an imported list (meeting/roster.py), kept apart from ``title``

    def identity(self) -> tuple[str, ...]:
        """What makes two entries one person (``person_key``): two people may share a name."""
        return person_key(self.name, self.title, self.unit, self.team)

    @property
    def is_delegate(self) -> bool:
        """Delegates vote and count towards quorum; the chair and vice chair are delegates."""
        return self.role in DELEGATE_ROLES


class AgendaItem(BaseModel):
    """An item of the session's agenda (chương trình kỳ họp)."""

    id: str
    title: str
    documents: list[str] = Field(default_factory=list)


class DocumentMeta(BaseModel):
    """What the box knows of an ingested document; the bytes are sealed blobs."""

    id: str
    item_id: str
    title: str
    filename: str
    pages: int
    sizes: list[list[float]] = Field(default_factory=list)  # [[w_pt, h_pt], ...]
    access: str = "delegates"  # public | delegates | confidential
    blobs: dict[str, list[str]] = Field(default_factory=dict)  # size -> blob id per page
    original_blob: str = ""
    text_blob: str = ""
    # Issue 6 (meeting/doc_rules.py): named readers of a confidential document, per-viewer
    # watermark, versions (a replaced document keeps its id and its notes), the PDF renditions come from.
    readers: list[str] = Field(default_factory=list)
    watermark: bool = False
    version: int = 1
    replaces: str | None = None
    replaced_by: str | None = None
    pdf_blob: str = ""


class Sitting(BaseModel):
    """A sitting (phiên họp): attendance and quorum belong to it."""

    id: str
    title: str
    status: str = "planned"  # planned | open | closed
    current_item: int | None = None  # 1-based
    opened_at: float | None = None
    closed_at: float | None = None
    present: list[str] = Field(default_factory=list)
    # The chair's confirmed time minus the box's clock at opening, when they were far apart
    # (meeting/sitting_record.py): shown to the secretary and kept in the record.
    clock_skew_s: float | None = None


class FloorEntry(BaseModel):
    """A request to speak, or a speech under way."""

    participant_id: str
    kind: str  # speak | rebuttal | report
    at: float
    mono: float = 0.0
    item: int | None = None  # the agenda item a request belongs to (a list per item)
    seq: float = 0.0  # order among requests of its kind; the chair may move it
    limit_s: float | None = None  # a speech's allowed time (extensions included)


class Speech(BaseModel):
    """A finished speech, for the minutes."""

    participant_id: str
    kind: str
    item: int | None
    started: float
    seconds: float
    limit_s: float | None = None


class Floor(BaseModel):
    """The floor: who waits and who speaks."""

    queue: list[FloorEntry] = Field(default_factory=list)
    speaking: list[FloorEntry] = Field(default_factory=list)
    mic_mode: str = "request"
    speeches: list[Speech] = Field(default_factory=list)
    max_open: int = 1  # delegate microphones open at once (appliance/meeting/microphones.py)
    # Speaking time (thời gian phát biểu) by kind, for the body and per agenda item ("2").
    limits: dict[str, float] = Field(default_factory=lambda: {"report": 900.0, "speak": 420.0, "rebuttal": 180.0})
    item_limits: dict[str, dict[str, float]] = Field(default_factory=dict)
    warn_s: float = 30.0
    auto_off: bool = False  # close the microphone when the time is up


class Poll(BaseModel):
    """A vote (lượt biểu quyết). Public ballots are kept per delegate; secret ones are not."""

    id: str
    sitting_id: str
    item: int | None
    spec: dict[str, Any]
    status: str = "open"  # open | closed
    opened_at: float = 0.0
    closes_at: float | None = None
    voters: list[str] = Field(default_factory=list)  # who voted, in no meaningful order
    ballots: dict[str, Any] = Field(default_factory=dict)  # public polls only
    result: dict[str, Any] | None = None
    # Life-cycle facts (appliance/meeting/poll_commands.py): how it was opened and what became of it.
    show_live: bool = False  # public polls only: partial results while open
    source: str = "electronic"  # electronic | paper (counts entered by the secretary)
    prepared_id: str | None = None
    series: str | None = None
    amend: dict[str, Any] | None = None  # an agenda change applied when the motion passes
    repeat_of: str | None = None
    annulled: str | None = None  # the reason, once annulled (the record stays)
    repeated_by: str | None = None


class PreparedPoll(BaseModel):
    """A poll the secretary prepared for an agenda item; the chair opens it with one tap."""

    id: str
    item: int | None
    args: dict[str, Any]  # the open_poll arguments (question, method, answers, rule, ...)
    series: str | None = None
    step: int = 0
    used_by: list[str] = Field(default_factory=list)  # polls opened from it (repeats too)


class Device(BaseModel):
    """A paired device and the credential bound to it."""

    id: str
    participant_id: str
    token_digest: str
    paired_at: float
    revoked: bool = False


class PairingCode(BaseModel):
    """A one-time pairing code, stored only as a keyed digest."""

    digest: str
    participant_id: str
    expires_at: float
    used: bool = False


class SessionState(BaseModel):
    """Everything the journal says about the session, at ``position``."""

    version: int = STATE_VERSION
    position: int = 0
    body: str = ""
    session: str = ""
    rehearsal: bool = False
    labels: dict[str, str] = Field(
        default_factory=lambda: {
            "for": "Tán thành",
            "against": "Không tán thành",
            "abstain": "Không biểu quyết",
            "high": "Tín nhiệm cao",
            "trust": "Tín nhiệm",
            "low": "Tín nhiệm thấp",
            "no_trust": "Không tín nhiệm",
        }
    )
    participants: dict[str, Participant] = Field(default_factory=dict)
    agenda: list[AgendaItem] = Field(default_factory=list)
    documents: dict[str, DocumentMeta] = Field(default_factory=dict)
    sittings: list[Sitting] = Field(default_factory=list)
    current_sitting: str | None = None
    floor: Floor = Field(default_factory=Floor)
    polls: dict[str, Poll] = Field(default_factory=dict)
    prepared: dict[str, PreparedPoll] = Field(default_factory=dict)
    devices: dict[str, Device] = Field(default_factory=dict)
    codes: dict[str, PairingCode] = Field(default_factory=dict)
    groups: GroupBoard = Field(default_factory=GroupBoard)  # discussion groups (meeting/groups.py)
    minutes: dict[str, SittingMinutes] = Field(default_factory=dict)  # per sitting id (meeting/minutes.py)
    # Issue 5: the hall's seating plan, custom roles, check-in rules (meeting/seating.py, custom_roles.py, attendance_pin.py).
    seating: SeatingPlan = Field(default_factory=SeatingPlan)
    custom_roles: dict[str, CustomRole] = Field(default_factory=dict)
    attendance_rules: AttendanceRules = Field(default_factory=AttendanceRules)
    hall_options: HallOptions = Field(default_factory=HallOptions)
    trust: TrustBoard = Field(default_factory=TrustBoard)  # pairing window, seat cards, device keys (meeting/device_trust.py)
    presenting: dict[str, Any] | None = None  # "follow me": the page shown on every screen (doc_rules.py)
    openings: list[dict[str, Any]] = Field(default_factory=list)  # who opened a confidential document
    applied_bundle: str | None = None  # the last bundle application committed (meeting/provisioned.py)
    # Secret choices live only in memory and in the ballot box, never in a snapshot.
    _secret: dict[str, list[Any]] = PrivateAttr(default_factory=dict)

    def secret_choices(self, poll_id: str) -> list[Any]:
        """The secret choices of a poll, in no meaningful order."""
        return self._secret.get(poll_id, [])

    def add_secret_choice(self, poll_id: str, choice: Any) -> None:
        """Record a secret choice in memory (the ballot box holds the durable copy)."""
        self._secret.setdefault(poll_id, []).append(choice)

    # -- derived facts used by rules and views --------------------------------
    def delegates(self) -> list[Participant]:
        """The delegates of the body, by seat then name."""
        found = [p for p in self.participants.values() if p.is_delegate]
        return sorted(found, key=lambda p: (p.seat if p.seat is not None else 10**6, p.id))

    def total_delegates(self) -> int:
        """Number of delegates of the body — the base of 'total' rules."""
        return sum(1 for p in self.participants.values() if p.is_delegate)

    def sitting(self) -> Sitting | None:
        """The current sitting (the open one, or the next planned)."""
        for s in self.sittings:
            if s.id == self.current_sitting:
                return s
        return None

    def present_delegates(self) -> int:
        """Delegates checked in to the current sitting."""
        s = self.sitting()
        if s is None:
            return 0
        return sum(1 for pid in s.present if pid in self.participants and self.participants[pid].is_delegate)


def quorum_needed(total: int) -> int:
    """At least two thirds of all delegates (Luật TCCQĐP 2025) — số đại biểu tối thiểu."""
    return -(-2 * total // 3)
