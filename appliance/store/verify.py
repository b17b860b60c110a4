"""Read-only verification of a journal: seals, hash chain, positions, checkpoint signatures.

Frames sealed with an erased data key (a crypto-shredded sitting) cannot be opened; their
place in the chain is still checked from the frame headers, and they are counted as
``shredded`` rather than reported as damage.

A sitting is found by its data key (``sitting-<id>`` named in a frame header, readable or
shredded) or by a readable ``sitting_opened`` event (a sitting just opened has no frame of
its own yet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import frames
from .keys import SITTING_PREFIX

SITTING_OPENED = "sitting_opened"  # the event type appliance.meeting records when a sitting opens


@dataclass
class VerifyReport:
    """The answer of ``phs journal verify`` and ``GET /api/journal/verify``."""

    ok: bool
    records: int  # records walked before the first problem (shredded ones included)
    first_bad: int | None  # position of the first record that is missing, damaged or misplaced
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0
    shredded: int = 0  # records whose data key was erased: chain-checked, unreadable
    shredded_keys: list[str] = field(default_factory=list)
    sittings: int = 0  # distinct sittings found before the first problem

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return asdict(self)


def verify_journal(
    directory: Path,
    key: bytes,
    *,
    keys: Callable[[str], bytes | None] | None = None,
    public_key: bytes | None = None,
) -> VerifyReport:
    """Check the whole journal without changing it, so tampering or damage is reported, not hidden.

    ``key`` is the session key and ``keys`` finds the others by name (None: erased;
    LookupError: never existed, so the frame is damage, not a shredded sitting).
    ``public_key`` (raw Ed25519) pins the identity checkpoints must be signed by; without
    it each checkpoint is checked against the key it names.
    """
    other = keys

    def lookup(name: str) -> bytes | None:
        if name == frames.SESSION_KEY:
            return key
        if other is None:
            raise LookupError(name)
        return other(name)

    opened: set[str] = set()

    def visit(record: dict[str, Any]) -> None:
        events = record.get("events")
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict) and event.get("type") == SITTING_OPENED:
                opened.add(str(event.get("sitting_id")))

    found = frames.scan(Path(directory), lookup, public_key=public_key, on_record=visit)
    shredded = sum(found.shredded.values())
    names = sorted(found.shredded)
    keyed = {k[len(SITTING_PREFIX) :] for k in found.key_ids if k.startswith(SITTING_PREFIX)}
    sittings = len(opened | keyed)
    problem = found.problem
    if problem is None:
        return VerifyReport(True, found.head, None, [], found.checkpoints, shredded, names, sittings)
    where = f"segment {problem.segment.name} offset {problem.offset}"
    kind = "torn tail (would be cut on open)" if problem.tail else "break before the tail"
    text = f"position {problem.position}: {problem.reason} at {where}; {kind}"
    return VerifyReport(
        False, found.head, problem.position, [text], found.checkpoints, shredded, names, sittings
    )
