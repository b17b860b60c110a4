"""Participant lists as secretaries keep them: CSV or XLSX with Vietnamese headers.

Headers may carry diacritics or not ("Họ và tên", "ho_ten"), come in any order and sit
below a title row or two. Every problem is collected with its line number (the line a
person sees in the spreadsheet) before anything is written, so one pass fixes the file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.core.text import fold, nfc

from .format import MAX_PARTICIPANTS

HEADER_SEARCH_ROWS = 10
# Column -> the folded header spellings that mean it.
HEADERS: dict[str, frozenset[str]] = {
    "name": frozenset({"ho va ten", "ho ten", "hoten", "ten dai bieu", "name", "full name"}),
    "title": frozenset({"chuc vu", "nghe nghiep chuc vu", "chuc danh", "title"}),
    "unit": frozenset({"don vi", "noi cong tac", "co quan", "don vi cong tac", "unit"}),
    "team": frozenset({"to dai bieu", "to", "doan dai bieu", "nhom", "team"}),
    "seat": frozenset({"so ghe", "ghe", "vi tri ghe", "seat"}),
    "role": frozenset({"vai tro", "role"}),
}
# Folded role names in the list -> our role codes.
ROLE_NAMES: dict[str, str] = {
    "": "delegate", "dai bieu": "delegate", "delegate": "delegate",
    "chu toa": "chair", "chu tich": "chair", "chair": "chair",
    "pho chu tich": "vice_chair", "vice chair": "vice_chair", "vice_chair": "vice_chair",
    "thu ky": "secretary", "secretary": "secretary",
    "khach moi": "guest", "guest": "guest",
    "ky thuat": "technician", "technician": "technician",
}
MAX_SEAT = 5000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the list, at a line the person can find."""

    line: int
    vi: str
    en: str

    def __str__(self) -> str:
        return f"dòng/line {self.line}: {self.vi} / {self.en}"


@dataclass
class Roster:
    """The participants read from a list, and everything wrong with it."""

    source: str
    participants: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def header_key(cell: str) -> str:
    """'Họ và tên' / 'HO_TEN ' / 'Số ghế:' -> 'ho va ten' / 'ho ten' / 'so ghe'."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-.:/*()]+", " ", fold(cell))).strip()


def _column_of(cell: str) -> str | None:
    key = header_key(cell)
    return next((col for col, names in HEADERS.items() if key in names), None)


def read_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) of a CSV or XLSX file; line numbers as the person sees them."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = path.read_bytes().decode("utf-8-sig")
        reader = csv.reader(io.StringIO(text))
        out: list[tuple[int, list[str]]] = []
        line = 1
        for row in reader:
            out.append((line, [nfc(c) for c in row]))
            line = reader.line_num + 1  # a quoted cell may span lines
        return out
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [
                (n, [nfc(_cell_text(c)) for c in row])
                for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            book.close()
    raise ValueError(f"{path.name}: a participant list must be .csv or .xlsx")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_roster(path: Path) -> Roster:
    """Read and check a participant list; problems are collected, never raised."""
    roster = Roster(path.name)
    try:
        rows = read_rows(path)
    except (OSError, ValueError, KeyError) as exc:
        roster.problems.append(Problem(0, f"không đọc được tệp: {exc}", f"cannot read the file: {exc}"))
        return roster
    header: tuple[int, dict[str, int]] | None = None
    for index, (_, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        columns: dict[str, int] = {}
        for c, cell in enumerate(cells):
            col = _column_of(cell)
            if col is not None and col not in columns:
                columns[col] = c
        if "name" in columns:
            header = (index, columns)
            break
    if header is None:
        roster.problems.append(
            Problem(1, "không có cột 'Họ và tên' (ho_ten) trong 10 dòng đầu", "no 'Họ và tên' (ho_ten) column in the first 10 rows")
        )
        return roster
    start, columns = header
    _read_body(roster, rows[start + 1 :], columns)
    if not roster.participants and not roster.problems:
        roster.problems.append(Problem(rows[start][0], "danh sách không có ai", "the list has nobody in it"))
    return roster


def _read_body(roster: Roster, rows: list[tuple[int, list[str]]], columns: dict[str, int]) -> None:
    seen_rows: dict[tuple[str, ...], int] = {}
    seats: dict[int, int] = {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank spacer lines are common and harmless

        def get(col: str, cells: list[str] = cells) -> str:
            i = columns.get(col)
            return " ".join(cells[i].split()) if i is not None and i < len(cells) else ""

        name, unit, title = get("name"), get("unit"), get("title")
        ok = True
        if not name:
            roster.problems.append(Problem(line, "thiếu họ và tên", "the name is blank"))
            ok = False
        key = (fold(name), fold(title), fold(unit), fold(get("team")), get("seat"))
        if name and key in seen_rows:
            first = seen_rows[key]
            roster.problems.append(Problem(line, f"trùng với dòng {first}", f"duplicates line {first}"))
            ok = False
        seen_rows.setdefault(key, line)
        role = ROLE_NAMES.get(header_key(get("role")))
        if role is None:
            roster.problems.append(Problem(line, f"vai trò '{get('role')}' không rõ", f"unknown role '{get('role')}'"))
            ok = False
        seat: int | None = None
        if get("seat"):
            text = get("seat")
            if not text.isdigit() or not 1 <= int(text) <= MAX_SEAT:
                roster.problems.append(Problem(line, f"số ghế '{text}' không hợp lệ", f"seat '{text}' is not a number from 1 to {MAX_SEAT}"))
                ok = False
            else:
                seat = int(text)
                if seat in seats:
                    roster.problems.append(
                        Problem(line, f"ghế {seat} đã dùng ở dòng {seats[seat]}", f"seat {seat} is already used on line {seats[seat]}")
                    )
                    ok = False
                seats.setdefault(seat, line)
        for col, limit in (("name", 200), ("title", 2000), ("unit", 1000), ("team", 200)):
            if len(get(col)) > limit:
                roster.problems.append(Problem(line, f"cột {col} quá dài", f"the {col} is longer than {limit} characters"))
                ok = False
        if ok:
            roster.participants.append(
                {"name": name, "role": role, "seat": seat, "title": ", ".join(x for x in (title, unit) if x)[:2000], "team": get("team")}
            )
            roster.lines.append(line)
    if len(roster.participants) > MAX_PARTICIPANTS:
        roster.problems.append(Problem(0, f"quá {MAX_PARTICIPANTS} người", f"more than {MAX_PARTICIPANTS} participants"))
