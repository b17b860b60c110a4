"""Participant lists for a bundle: the box's own reader (``appliance.meeting.roster``) on a file.

The reading and checking rules are shared with the secretary's import on the box, so a
list that builds into a bundle imports the same way by hand, and the other way round.
"""

from __future__ import annotations

from pathlib import Path

from appliance.meeting.roster import (
    HEADER_SEARCH_ROWS,
    HEADERS,
    MAX_SEAT,
    ROLE_NAMES,
    Problem,
    Question,
    Roster,
    check_rows,
    header_key,
    rows_from_bytes,
)

__all__ = [
    "HEADERS",
    "HEADER_SEARCH_ROWS",
    "MAX_SEAT",
    "ROLE_NAMES",
    "Problem",
    "Question",
    "Roster",
    "header_key",
    "read_roster",
    "read_rows",
]


def read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of a CSV or XLSX file; line numbers as the person sees them."""
    return rows_from_bytes(path.read_bytes(), path.name)


def read_roster(path: Path) -> Roster:
    """Read and check a participant list; problems are collected, never raised."""
    roster = Roster(path.name)
    try:
        rows = read_rows(path)
    except (OSError, ValueError, KeyError) as exc:
        roster.problems.append(Problem(0, f"không đọc được tệp: {exc}", f"cannot read the file: {exc}"))
        return roster
    return check_rows(roster, rows)
