"""Read the journal without a writer and rebuild the state a sitting's minutes describe.

Reading is safe while ``phs serve`` appends: only whole frames are read, and a frame cut
short at the end (a write in flight) ends the walk instead of being reported as damage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.meeting import rule_modules  # noqa: F401  (registers every feature's events)
from appliance.meeting.apply import apply
from appliance.meeting.model import SessionState
from appliance.store import frames

KeyLookup = Callable[[str], "bytes | None"]
ABSENCE_EVENTS = ("absence_noted", "absence_reported", "absence_excused")


@dataclass(frozen=True)
class Row:
    """One journal frame: a record (None when its key was erased) or a checkpoint."""

    position: int
    key_id: str
    record: dict[str, Any] | None
    frame_hash: str  # SHA-256 of the whole frame: the chain value the next frame names
    checkpoint: dict[str, Any] | None = None


@dataclass
class SittingFacts:
    """What happened while one sitting was open, for its minutes."""

    attended: list[str] = field(default_factory=list)  # first check-in order
    absences: dict[str, str] = field(default_factory=dict)  # participant -> reason, if recorded
    speeches: list[int] = field(default_factory=list)  # indices into state.floor.speeches
    items: list[int] = field(default_factory=list)  # agenda items taken up, in order
    first: int = 0
    last: int = 0


@dataclass
class Replay:
    """The state at a position plus the per-sitting facts the state alone forgets."""

    state: SessionState
    sittings: dict[str, SittingFacts]


def read_rows(journal_dir: Path, keys: KeyLookup) -> list[Row]:
    """Every whole frame in order; a damaged frame before the tail refuses with ``internal``."""
    rows: list[Row] = []
    segments = frames.list_segments(Path(journal_dir))
    for path in segments:
        buf = path.read_bytes()
        off = 0
        while off < len(buf):
            try:
                h = frames.read_header(buf, off)
                body = frames.open_frame(keys, buf, h)
            except (frames.BadFrame, ValueError) as exc:
                if "truncated" in str(exc) and path == segments[-1]:
                    break  # a write in flight at the end
                after = rows[-1].position if rows else 0
                raise refuse(
                    "internal",
                    "Nhật ký bị hỏng; hãy chạy `phs journal verify`.",
                    f"The journal is damaged after position {after}; run `phs journal verify`.",
                ) from None
            digest = hashlib.sha256(buf[off : h.end]).hexdigest()
            if h.is_record:
                record = None if body is None else body.get("r", body)
                rows.append(Row(h.position, h.key_id, record, digest))
            else:
                cp = None if body is None else body.get("cp", body)
                rows.append(Row(h.position, h.key_id, None, digest, checkpoint=cp))
            off = h.end
    return rows


def replay(rows: list[Row], upto: int | None = None) -> Replay:
    """Apply the records up to ``upto`` (all when None) to a fresh state, noting each sitting's facts."""
    state = SessionState()
    facts: dict[str, SittingFacts] = {}
    for row in rows:
        if row.record is None or row.checkpoint is not None:
            continue
        if upto is not None and row.position > upto:
            break
        before = len(state.floor.speeches)
        for body in row.record.get("events", []):
            _note(state, facts, body, row.position)
            apply(state, Event.from_dict(body), row.position)
        open_id = _open_sitting(state)
        if open_id is not None:
            f = facts.setdefault(open_id, SittingFacts())
            f.speeches.extend(range(before, len(state.floor.speeches)))
            f.last = row.position
        state.position = row.position
    return Replay(state, facts)


def _open_sitting(state: SessionState) -> str | None:
    sitting = state.sitting()
    return sitting.id if sitting is not None and sitting.status == "open" else None


def _note(state: SessionState, facts: dict[str, SittingFacts], body: dict[str, Any], position: int) -> None:
    """Facts the state overwrites (who came, which items, recorded absences), kept as they happen."""
    kind = body.get("type")
    sid = body.get("sitting_id") or _open_sitting(state)
    if not isinstance(sid, str):
        return
    f = facts.setdefault(sid, SittingFacts())
    if kind == "sitting_opened" and not f.first:
        f.first = position
    pid = body.get("participant_id")
    if kind == "checked_in" and isinstance(pid, str) and pid not in f.attended:
        f.attended.append(pid)
    elif kind == "item_started" and isinstance(body.get("item"), int):
        if not f.items or f.items[-1] != body["item"]:
            f.items.append(int(body["item"]))
    elif kind in ABSENCE_EVENTS and isinstance(pid, str):
        f.absences[pid] = str(body.get("reason", ""))[:500]
