"""Names of the simulated participants: from a delegate list, or generated.

Secretaries keep delegate lists as spreadsheets exported from the election records
(``ho_ten`` or "Họ và tên" columns), so the runner reads the first column whose
header looks like a name. Generated names are seeded so a rehearsal replays exactly.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

from appliance.core.text import fold, nfc

HEADER_SEARCH_ROWS = 10
NAME_HEADERS = frozenset({"ho_ten", "ho ten", "ho va ten", "hoten", "name", "full name", "ten"})


class RosterError(ValueError):
    """A delegate list that cannot be used; the message says why."""


def read_delegate_list(path: Path) -> list[str]:
    """The names in a CSV or XLSX delegate list, in file order."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _csv_rows(path)
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(path)
    else:
        raise RosterError(f"{path.name}: a delegate list must be .csv or .xlsx")
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise RosterError(f"{path.name} is empty")
    # Exported lists often start with a title row or two (merged cells) before the
    # real header, so look a few rows down for it.
    found = next(
        (
            (r, c)
            for r, row in enumerate(rows[:HEADER_SEARCH_ROWS])
            for c, cell in enumerate(row)
            if _header_key(cell) in NAME_HEADERS
        ),
        None,
    )
    if found is None:
        raise RosterError(
            f"{path.name} has no name column (ho_ten, họ và tên or name) in its first "
            f"{HEADER_SEARCH_ROWS} rows"
        )
    header_row, column = found
    body = rows[header_row + 1 :]
    names = [nfc(row[column].strip()) if column < len(row) else "" for row in body]
    for number, name in enumerate(names, start=1):
        if not name:
            raise RosterError(f"{path.name}: delegate {number} has no name")
    if not names:
        raise RosterError(f"{path.name} lists no delegates")
    return names


def _header_key(cell: str) -> str:
    return " ".join(fold(cell).replace("-", " ").split()).strip()


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RosterError(f"cannot read {path.name}: {exc}") from exc
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError(f"{path.name} is not UTF-8 text") from exc
    return [list(row) for row in csv.reader(io.StringIO(decoded))]


def _xlsx_rows(path: Path) -> list[list[str]]:
    import openpyxl  # only needed for spreadsheets; keeps start-up light

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise RosterError(f"cannot read {path.name}: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        return [
            ["" if cell is None else str(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    finally:
        book.close()


_SURNAMES = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Lương",
    "Tô",
    "Hà",
)
_MIDDLE = (
    "Văn",
    "Thị",
    "Hữu",
    "Minh",
    "Thanh",
    "Quốc",
    "Ngọc",
    "Đức",
    "Thu",
    "Xuân",
    "Hồng",
    "Kim",
    "Công",
    "Anh",
    "Bảo",
)
_GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hiếu",
    "Hoa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phong",
    "Phúc",
    "Quang",
    "Quyên",
    "Sơn",
    "Tâm",
    "Thắng",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
)


def generated_names(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct Vietnamese names; a seat suffix once the pool runs short."""
    names: list[str] = []
    seen: set[str] = set()
    for seat in range(1, count + 1):
        for _ in range(20):
            name = f"{rng.choice(_SURNAMES)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
            if name not in seen:
                break
        else:
            name = f"{name} {seat:03d}"
        seen.add(name)
        names.append(name)
    return names
