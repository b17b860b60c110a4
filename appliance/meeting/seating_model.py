"""The hall's seating plan (sơ đồ chỗ ngồi), custom roles and attendance rules, as state.

Kept in their own models so ``SessionState`` only names them. A seat ties together the
participant sitting there (``Participant.seat`` holds the number), their tablet (the
device paired to that participant) and the microphone unit wired to it (``unit``; the
seat number unless the hall's wiring says otherwise).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Seat(BaseModel):
    """One place in the hall, in plan units (one seat is 1 × 1)."""

    number: int
    x: float
    y: float
    block: str = ""
    kind: str = "seat"  # seat | presidium (bàn Chủ tọa)
    unit: str = ""  # the microphone unit; "" means the seat number


class SeatingPlan(BaseModel):
    """The layout the secretary built, and the sections it was built from (to edit again)."""

    seats: list[Seat] = Field(default_factory=list)
    sections: list[dict[str, Any]] = Field(default_factory=list)
    width: float = 0.0
    height: float = 0.0

    def numbers(self) -> set[int]:
        """Every seat number of the plan."""
        return {s.number for s in self.seats}


class CustomRole(BaseModel):
    """A role the secretary built from named permissions (e.g. a press officer, an expert)."""

    code: str
    label: str
    label_en: str = ""
    permissions: list[str] = Field(default_factory=list)


class AttendanceRules(BaseModel):
    """How the body checks in: whether a tablet check-in needs the delegate's PIN."""

    pin_required: bool = False
    # participant id -> (salt hex, sha256 hex) of their PIN; never the PIN itself.
    pins: dict[str, tuple[str, str]] = Field(default_factory=dict)


class HallOptions(BaseModel):
    """What the secretary allows beyond the paired screens."""

    public_display: bool = False  # /ui/public.html: only public facts, no credential needed
