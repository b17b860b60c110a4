"""The seating plan — sơ đồ vị trí chỗ ngồi: lay out the hall, seat the participants.

The secretary builds the hall from sections (the presidium table, straight rows, blocks
with aisles, arcs of a hemicycle); this module turns them into numbered seats with
positions, so every screen draws the same plan. Seating a participant sets their
``seat``; the hall display colours the plan from attendance, the floor and — for public
polls once closed — the votes (``web_ui/seating_view.js``). Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event, event
from appliance.core.text import nfc
from appliance.meeting.apply import applies
from appliance.meeting.decide import handles
from appliance.meeting.model import Participant, SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.seating_model import Seat, SeatingPlan
from appliance.meeting.views import section_builder

SHAPES = ("presidium", "rows", "blocks", "arc")
MAX_SEATS = 5000
SEAT_GAP = 1.25  # plan units between neighbours in a row
ROW_GAP = 1.6  # between rows
AISLE = 1.6  # between blocks
SECTION_GAP = 1.9  # between sections (the presidium and the first row)
ARC_SPAN = math.radians(120)
PRESIDING_ROLES = ("chair", "vice_chair")


@event("seating_plan_set")
@dataclass(frozen=True)
class SeatingPlanSet(Event):
    """The secretary laid out the hall. Seats no longer in the plan are freed."""

    sections: tuple[dict[str, Any], ...]
    seats: tuple[dict[str, Any], ...]
    width: float
    height: float


@event("seats_assigned")
@dataclass(frozen=True)
class SeatsAssigned(Event):
    """Participants moved to seats (a seat of None: unseated). Applied together, so a swap is one event."""

    assignments: tuple[tuple[str, int | None], ...]


# -- layout (pure geometry) -------------------------------------------------------


def _int(section: dict[str, Any], key: str, low: int, high: int, default: int | None = None) -> int:
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise refuse(
            "invalid",
            f"Khu '{section.get('block') or section.get('shape')}': '{key}' phải từ {low} đến {high}.",
            f"Section '{section.get('block') or section.get('shape')}': '{key}' must be from {low} to {high}.",
            field=key,
        )
    return value


def _row(count: int, y: float, x0: float = 0.0) -> list[tuple[float, float]]:
    """``count`` seats in a straight row centred on ``x0``."""
    left = x0 - (count - 1) * SEAT_GAP / 2
    return [(left + i * SEAT_GAP, y) for i in range(count)]


def layout(sections: list[Any]) -> tuple[list[dict[str, Any]], list[Seat], float, float]:
    """Seats from the editor's sections, numbered front to back, left to right.

    Returns (the cleaned sections, the seats, width, height); positions are shifted so the
    plan starts at (0, 0). Refuses a bad section with ``invalid`` naming the field."""
    if not isinstance(sections, list) or not sections:
        raise refuse("invalid", "Sơ đồ phải có ít nhất một khu ghế.", "A plan needs at least one section.")
    if len(sections) > 50:
        raise refuse("invalid", "Tối đa 50 khu ghế.", "At most 50 sections.")
    seats: list[Seat] = []
    cleaned: list[dict[str, Any]] = []
    used: set[int] = set()
    cursor_y = 0.0
    next_number = 1
    for raw in sections:
        if not isinstance(raw, dict) or raw.get("shape") not in SHAPES:
            raise refuse("invalid", "Kiểu khu ghế không hợp lệ.", f"A section's shape must be one of {', '.join(SHAPES)}.")
        shape = str(raw["shape"])
        block = nfc(str(raw.get("block") or "")).strip()[:40]
        start = _int(raw, "start", 1, MAX_SEATS, next_number)
        section: dict[str, Any] = {"shape": shape, "block": block, "start": start}
        places: list[list[tuple[float, float]]] = []  # per block, in numbering order
        if shape == "presidium":
            count = _int(raw, "seats", 1, 30)
            section["seats"] = count
            places.append(_row(count, cursor_y))
            depth = 1.0
        elif shape == "rows":
            rows, per_row = _int(raw, "rows", 1, 60), _int(raw, "per_row", 1, 100)
            section.update(rows=rows, per_row=per_row)
            places.append([p for r in range(rows) for p in _row(per_row, cursor_y + r * ROW_GAP)])
            depth = (rows - 1) * ROW_GAP + 1
        elif shape == "blocks":
            blocks, rows, per_row = _int(raw, "blocks", 1, 10), _int(raw, "rows", 1, 60), _int(raw, "per_row", 1, 40)
            section.update(blocks=blocks, rows=rows, per_row=per_row)
            block_w = (per_row - 1) * SEAT_GAP
            total_w = blocks * block_w + (blocks - 1) * (AISLE + SEAT_GAP)
            for b in range(blocks):
                centre = -total_w / 2 + b * (block_w + AISLE + SEAT_GAP) + block_w / 2
                places.append([p for r in range(rows) for p in _row(per_row, cursor_y + r * ROW_GAP, centre)])
            depth = (rows - 1) * ROW_GAP + 1
        else:  # arc: rows of a hemicycle facing the presidium
            rows, per_row = _int(raw, "rows", 1, 40), _int(raw, "per_row", 1, 100)
            section.update(rows=rows, per_row=per_row)
            radius0 = max(3.0, per_row * SEAT_GAP / ARC_SPAN)
            centre_y = cursor_y - radius0 * math.cos(ARC_SPAN / 2)
            arc: list[tuple[float, float]] = []
            for r in range(rows):
                radius = radius0 + r * ROW_GAP
                for i in range(per_row):
                    angle = -ARC_SPAN / 2 + (ARC_SPAN * i / (per_row - 1) if per_row > 1 else ARC_SPAN / 2)
                    arc.append((radius * math.sin(angle), centre_y + radius * math.cos(angle)))
            places.append(arc)
            depth = centre_y + radius0 + (rows - 1) * ROW_GAP - cursor_y + 1
        number = start
        for b, spots in enumerate(places):
            label = block if len(places) == 1 else f"{block or 'Khối'} {b + 1}"
            for x, y in spots:
                if number > MAX_SEATS:
                    raise refuse("invalid", f"Số ghế vượt quá {MAX_SEATS}.", f"Seat numbers go past {MAX_SEATS}.")
                if number in used:
                    raise refuse("invalid", f"Ghế số {number} bị trùng giữa hai khu.", f"Seat {number} is in two sections.", seat=number)
                used.add(number)
                kind = "presidium" if shape == "presidium" else "seat"
                seats.append(Seat(number=number, x=x, y=y, block=label, kind=kind))
                number += 1
        next_number = max(next_number, number)
        cursor_y += depth + SECTION_GAP
        cleaned.append(section)
    if len(seats) > MAX_SEATS:
        raise refuse("invalid", f"Tối đa {MAX_SEATS} ghế.", f"At most {MAX_SEATS} seats.")
    min_x = min(s.x for s in seats)
    min_y = min(s.y for s in seats)
    for s in seats:
        s.x, s.y = round(s.x - min_x, 3), round(s.y - min_y, 3)
    width = round(max(s.x for s in seats) + 1, 3)
    height = round(max(s.y for s in seats) + 1, 3)
    return cleaned, seats, width, height


# -- wiring: which microphone unit belongs to which seat --------------------------


def unit_of_seat(seat: Seat) -> str:
    """The microphone unit wired to a seat: its ``unit``, or the seat number when unset."""
    return seat.unit or str(seat.number)


def seat_units(state: SessionState) -> dict[int, str]:
    """Seat number → microphone unit, for every seat of the plan."""
    return {s.number: unit_of_seat(s) for s in state.seating.seats}


def unit_at(state: SessionState, number: int) -> str:
    """The unit of seat ``number``; a seat not in the plan (no plan built yet) is its number."""
    return seat_units(state).get(number, str(number))


def participant_at_unit(state: SessionState, unit: str) -> Participant | None:
    """Who sits at the seat wired to ``unit``, or None when the unit's seat is empty."""
    units = seat_units(state)
    for p in state.participants.values():
        if p.seat is not None and units.get(p.seat, str(p.seat)) == unit:
            return p
    return None


# -- commands ------------------------------------------------------------------------


@handles("set_seating_plan", "participant.manage")
def _set_plan(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    sections, seats, width, height = layout(args.get("sections"))  # type: ignore[arg-type]
    units = args.get("units") or {}
    if not isinstance(units, dict):
        raise refuse("invalid", "'units' phải là bảng số ghế → bộ micro.", "'units' must map seat numbers to microphone units.")
    numbers = {s.number for s in seats}
    for key, unit in units.items():
        if not str(key).isdigit() or int(key) not in numbers or not isinstance(unit, str) or len(unit) > 20:
            raise refuse("invalid", f"Bộ micro của ghế {key} không hợp lệ.", f"The microphone unit of seat {key} is not valid.")
    for s in seats:
        s.unit = str(units.get(str(s.number), "")).strip()
    wired: dict[str, int] = {}
    for s in seats:
        unit = unit_of_seat(s)
        if unit in wired:
            raise refuse(
                "invalid",
                f"Bộ micro {unit} được nối với cả ghế {wired[unit]} và ghế {s.number}.",
                f"Microphone unit {unit} is wired to both seat {wired[unit]} and seat {s.number}.",
                field="units",
                unit=unit,
            )
        wired[unit] = s.number
    return [SeatingPlanSet(tuple(sections), tuple(s.model_dump() for s in seats), width, height)]


def _seat_value(state: SessionState, value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_SEATS:
        raise refuse("invalid", "Số ghế không hợp lệ.", f"A seat is a number from 1 to {MAX_SEATS}.")
    if state.seating.seats and value not in state.seating.numbers():
        raise refuse("not_found", f"Sơ đồ không có ghế số {value}.", f"The plan has no seat {value}.", seat=value)
    return value


@handles("assign_seats", "participant.manage")
def _assign(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    rows = args.get("assignments")
    if not isinstance(rows, list) or not rows or len(rows) > MAX_SEATS:
        raise refuse("invalid", "Danh sách xếp chỗ trống.", "'assignments' must be a non-empty list.")
    moves: dict[str, int | None] = {}
    for row in rows:
        if not isinstance(row, dict) or row.get("participant_id") not in state.participants:
            raise refuse("not_found", "Không tìm thấy người tham dự.", "No such participant.")
        moves[str(row["participant_id"])] = _seat_value(state, row.get("seat"))
    # Seats after the move: two people in one seat is refused, a swap in one request is fine.
    after = {pid: p.seat for pid, p in state.participants.items()}
    after.update(moves)
    taken: dict[int, str] = {}
    for pid, seat in after.items():
        if seat is None:
            continue
        if seat in taken:
            other = state.participants[pid if pid not in moves else taken[seat]].name
            raise refuse("conflict", f"Ghế {seat} đã có {other}.", f"Seat {seat} is already taken by {other}.", seat=seat)
        taken[seat] = pid
    changed = tuple((pid, seat) for pid, seat in moves.items() if state.participants[pid].seat != seat)
    return [SeatsAssigned(changed)] if changed else []


@handles("auto_seat", "participant.manage")
def _auto(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Seat everyone without a seat, in list order: the chair and vice chairs at the
    presidium table first, delegates in the hall, then guests in what is left."""
    if not state.seating.seats:
        raise refuse("conflict", "Hãy dựng sơ đồ chỗ ngồi trước.", "Build the seating plan first.")
    occupied = {p.seat for p in state.participants.values() if p.seat is not None}
    free = [s for s in sorted(state.seating.seats, key=lambda s: s.number) if s.number not in occupied]
    presidium = [s.number for s in free if s.kind == "presidium"]
    hall = [s.number for s in free if s.kind != "presidium"]
    order = {"chair": 0, "vice_chair": 1, "delegate": 2, "guest": 3}
    waiting = [p for p in state.participants.values() if p.seat is None and p.role in order]
    waiting.sort(key=lambda p: order[p.role])  # stable: list order within a role
    moves: list[tuple[str, int | None]] = []
    for p in waiting:
        pool = presidium if p.role in PRESIDING_ROLES and presidium else hall
        if not pool:
            pool = presidium  # a small hall: the presidium's spare seats take the rest
        if not pool:
            break
        moves.append((p.id, pool.pop(0)))
    if not moves:
        raise refuse("conflict", "Không còn ai chưa có chỗ hoặc không còn ghế trống.", "Nobody is left to seat, or no seat is free.")
    return [SeatsAssigned(tuple(moves))]


# -- state ---------------------------------------------------------------------------


@applies(SeatingPlanSet)
def _plan_set(s: SessionState, e: SeatingPlanSet) -> None:
    s.seating = SeatingPlan(
        seats=[Seat.model_validate(dict(x)) for x in e.seats],
        sections=[dict(x) for x in e.sections],
        width=e.width,
        height=e.height,
    )
    numbers = s.seating.numbers()
    for p in s.participants.values():
        if p.seat is not None and p.seat not in numbers:
            p.seat = None  # the seat is gone: the person waits in the editor's list


@applies(SeatsAssigned)
def _assigned(s: SessionState, e: SeatsAssigned) -> None:
    for pid, seat in e.assignments:
        if pid in s.participants:
            s.participants[pid].seat = seat


@section_builder("seating")
def seating_section(state: SessionState, actor: Actor) -> dict[str, Any]:
    """The plan every screen draws: seats with positions (who sits where is in ``participants``)."""
    plan = state.seating
    return {
        "width": plan.width,
        "height": plan.height,
        "sections": [dict(x) for x in plan.sections],
        "seats": [
            {"n": s.number, "x": s.x, "y": s.y, "block": s.block, "kind": s.kind, "unit": unit_of_seat(s)}
            for s in plan.seats
        ],
    }
