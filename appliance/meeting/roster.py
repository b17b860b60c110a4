"""Participant lists as secretaries keep them: CSV or XLSX with Vietnamese headers.

Shared by the secretary's import (``POST /api/participants/import``) and the USB bundle
builder (``provisioning.roster``), so both read a list the same way. Pure: it turns the
bytes of a file into rows and rows into participants; nothing here touches the disk.

Headers may carry diacritics or not ("Họ và tên", "ho_ten"), come in any order and sit
below a title row or two. Every problem is collected with its line number (the line a
person sees in the spreadsheet) before anything is written, so one pass fixes the file.

Two delegates may share a name (common in Vietnam). A row that repeats another exactly
is a duplicate — the same person twice — and a problem. Rows with the same name that
nothing else tells apart (no title, unit or team that differs) are *questions*: only the
secretary knows whether they are one person or two, so the import asks before it writes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.core.text import fold, nfc

HEADER_SEARCH_ROWS = 10
MAX_PARTICIPANTS = 5000
MAX_SEAT = 5000
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
    "pho chu tich": "vice_chair", "pho chu toa": "vice_chair", "vice chair": "vice_chair", "vice_chair": "vice_chair",
    "thu ky": "secretary", "secretary": "secretary",
    "khach moi": "guest", "guest": "guest",
    "ky thuat": "technician", "technician": "technician",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the list, at a line the person can find."""

    line: int
    vi: str
    en: str

    def __str__(self) -> str:
        return f"dòng/line {self.line}: {self.vi} / {self.en}"

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the secretary screen lists."""
        return {"line": self.line, "message": self.vi, "message_en": self.en}


@dataclass(frozen=True)
class Question:
    """Two rows with one name that nothing else tells apart: one person, or two?"""

    line: int  # the later row; answering "same" drops it
    first: int  # the earlier row it may repeat
    name: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form the secretary answers (``first`` 0: someone already on the box)."""
        if self.first == 0:
            return {
                "line": self.line,
                "first": 0,
                "name": self.name,
                "message": f"Dòng {self.line}: {self.name} trùng tên với người đã có trong danh sách: một người hay hai người?",
                "message_en": f"Line {self.line}: {self.name} has the name of someone already listed: one person or two?",
            }
        return {
            "line": self.line,
            "first": self.first,
            "name": self.name,
            "message": f"Dòng {self.line} và dòng {self.first} cùng tên {self.name}: một người hay hai người?",
            "message_en": f"Lines {self.first} and {self.line} both name {self.name}: one person or two?",
        }


@dataclass
class Roster:
    """The participants read from a list, and everything wrong with it."""

    source: str
    participants: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def header_key(cell: str) -> str:
    """'Họ và tên' / 'HO_TEN ' / 'Số ghế:' -> 'ho va ten' / 'ho ten' / 'so ghe'."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-.:/*()]+", " ", fold(cell))).strip()


def _column_of(cell: str) -> str | None:
    key = header_key(cell)
    return next((col for col, names in HEADERS.items() if key in names), None)


def rows_from_bytes(data: bytes, filename: str) -> list[tuple[int, list[str]]]:
    """(line number, NFC cells) of a CSV or XLSX file; line numbers as the person sees them.

    Raises ``ValueError`` with a bilingual message for a file that is neither."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            # Excel on Windows saves "CSV" in the Windows code page; say what to do.
            raise ValueError(
                "tệp CSV không phải UTF-8 (hãy lưu dạng 'CSV UTF-8') / the CSV file is not UTF-8 (save it as 'CSV UTF-8')"
            ) from None
        reader = csv.reader(io.StringIO(text))
        out: list[tuple[int, list[str]]] = []
        line = 1
        for row in reader:
            out.append((line, [nfc(c) for c in row]))
            line = reader.line_num + 1  # a quoted cell may span lines
        return out
    if suffix in ("xlsx", "xlsm"):
        from openpyxl import load_workbook  # only for spreadsheets; keeps start-up light

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ValueError(f"tệp Excel hỏng / the Excel file is damaged ({type(exc).__name__})") from None
        try:
            sheet = book.worksheets[0]
            return [
                (n, [nfc(_cell_text(c)) for c in row])
                for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            book.close()
    raise ValueError(
        f"{filename}: danh sách phải là tệp .csv hoặc .xlsx / a participant list must be .csv or .xlsx"
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_roster_bytes(
    data: bytes, filename: str, *, extra_roles: Mapping[str, str] | None = None
) -> Roster:
    """Read and check a participant list from its bytes; problems are collected, never raised."""
    roster = Roster(filename)
    try:
        rows = rows_from_bytes(data, filename)
    except (ValueError, KeyError) as exc:
        roster.problems.append(Problem(0, f"không đọc được tệp: {exc}", f"cannot read the file: {exc}"))
        return roster
    return check_rows(roster, rows, extra_roles=extra_roles)


def check_rows(
    roster: Roster, rows: list[tuple[int, list[str]]], *, extra_roles: Mapping[str, str] | None = None
) -> Roster:
    """Find the header, then read and check every row below it into ``roster``."""
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
    roles = dict(ROLE_NAMES)
    roles.update({header_key(k): v for k, v in (extra_roles or {}).items()})
    _read_body(roster, rows[start + 1 :], columns, roles)
    if not roster.participants and not roster.problems:
        roster.problems.append(Problem(rows[start][0], "danh sách không có ai", "the list has nobody in it"))
    return roster


def _read_body(
    roster: Roster, rows: list[tuple[int, list[str]]], columns: dict[str, int], roles: Mapping[str, str]
) -> None:
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
        role = roles.get(header_key(get("role")))
        if role is None:
            roster.problems.append(Problem(line, f"vai trò '{get('role')}' không rõ", f"unknown role '{get('role')}'"))
            ok = False
        seat: int | None = None
        if get("seat"):
            text = get("seat")
            if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_SEAT:  # "²" is a digit to isdigit
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
                {"name": name, "role": role, "seat": seat, "title": title, "unit": unit, "team": get("team")}
            )
            roster.lines.append(line)
    if len(roster.participants) > MAX_PARTICIPANTS:
        roster.problems.append(Problem(0, f"quá {MAX_PARTICIPANTS} người", f"more than {MAX_PARTICIPANTS} participants"))
    roster.questions = ambiguous_rows(roster.participants, roster.lines)


def _same_or_blank(a: str, b: str) -> bool:
    return not a or not b or fold(a) == fold(b)


def _told_apart(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether a title, unit or team given on both rows differs."""
    return not all(_same_or_blank(str(a.get(k) or ""), str(b.get(k) or "")) for k in ("title", "unit", "team"))


def ambiguous_rows(participants: list[dict[str, Any]], lines: list[int]) -> list[Question]:
    """Rows with an earlier row of the same name that no title, unit or team tells apart."""
    by_name: dict[str, list[int]] = {}
    out: list[Question] = []
    for i, p in enumerate(participants):
        earlier = by_name.setdefault(fold(p["name"]), [])
        for j in earlier:
            q = participants[j]
            if not _told_apart(p, q):
                out.append(Question(lines[i], lines[j], p["name"]))
                break
        earlier.append(i)
    return out


def against_existing(roster: Roster, existing: Iterable[Mapping[str, Any]]) -> None:
    """Problems of rows that clash with people already on the box: a seat taken, the same
    person already listed (same name, title, unit, team and seat); a shared name with
    nothing to tell them apart becomes a question."""
    people = list(existing)
    taken = {int(p["seat"]): p for p in people if p.get("seat") is not None}
    named: dict[str, list[Mapping[str, Any]]] = {}
    for p in people:
        named.setdefault(fold(str(p["name"])), []).append(p)
    for row, line in zip(roster.participants, roster.lines, strict=True):
        seat = row.get("seat")
        if seat is not None and seat in taken:
            who = taken[seat]["name"]
            roster.problems.append(Problem(line, f"ghế {seat} đã có {who}", f"seat {seat} is already taken by {who}"))
        for p in named.get(fold(row["name"]), []):
            same = all(fold(str(p.get(k) or "")) == fold(str(row.get(k) or "")) for k in ("title", "unit", "team"))
            if same and p.get("seat") == seat:
                roster.problems.append(
                    Problem(line, f"{row['name']} đã có trong danh sách", f"{row['name']} is already on the list")
                )
                break
            if not _told_apart(p, row):
                roster.questions.append(Question(line, 0, row["name"]))
                break


def resolve(roster: Roster, answers: Mapping[str, str]) -> tuple[list[dict[str, Any]], list[Question]]:
    """The rows to import once the secretary answered: "same" drops the later row, "distinct"
    keeps both. Returns (rows, questions still unanswered)."""
    drop: set[int] = set()
    open_questions: list[Question] = []
    for q in roster.questions:
        answer = answers.get(str(q.line))
        if answer == "same":
            drop.add(q.line)
        elif answer != "distinct":
            open_questions.append(q)
    distinct = {q.line for q in roster.questions if answers.get(str(q.line)) == "distinct"}
    rows = [
        {**p, "namesake": True} if line in distinct else p
        for p, line in zip(roster.participants, roster.lines, strict=True)
        if line not in drop
    ]
    return rows, open_questions
