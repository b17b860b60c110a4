"""Read-only verification of a journal: seals, hash chain, positions, checkpoint signatures."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import frames


@dataclass
class VerifyReport:
    """The answer of ``phs journal verify`` and ``GET /api/journal/verify``."""

    ok: bool
    records: int  # records verified before the first problem
    first_bad: int | None  # position of the first record that is missing, damaged or misplaced
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the API."""
        return asdict(self)


def verify_journal(directory: Path, key: bytes, *, public_key: bytes | None = None) -> VerifyReport:
    """Check the whole journal without changing it, so tampering or damage is reported, not hidden.

    ``public_key`` (raw Ed25519) pins the identity checkpoints must be signed by; without
    it each checkpoint is checked against the key it names.
    """
    found = frames.scan(Path(directory), key, public_key=public_key)
    problem = found.problem
    if problem is None:
        return VerifyReport(True, found.head, None, [], found.checkpoints)
    where = f"segment {problem.segment.name} offset {problem.offset}"
    kind = "torn tail (would be cut on open)" if problem.tail else "break before the tail"
    text = f"position {problem.position}: {problem.reason} at {where}; {kind}"
    return VerifyReport(False, found.head, problem.position, [text], found.checkpoints)
