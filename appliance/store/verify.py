"""Read-only verification of a journal: seals, hash chain, positions, checkpoint signatures.

Frames sealed with an erased data key (a crypto-shredded sitting) cannot be opened; their
place in the chain is still checked from the frame headers, and they are counted as
``shredded`` rather than reported as damage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import frames


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

    found = frames.scan(Path(directory), lookup, public_key=public_key)
    shredded = sum(found.shredded.values())
    names = sorted(found.shredded)
    problem = found.problem
    if problem is None:
        return VerifyReport(True, found.head, None, [], found.checkpoints, shredded, names)
    where = f"segment {problem.segment.name} offset {problem.offset}"
    kind = "torn tail (would be cut on open)" if problem.tail else "break before the tail"
    text = f"position {problem.position}: {problem.reason} at {where}; {kind}"
    return VerifyReport(
        False, found.head, problem.position, [text], found.checkpoints, shredded, names
    )
