"""Participant lists with Vietnamese headers, any column order, every problem with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from provisioning.roster import read_roster
from tests.provisioning.conftest import CORPUS, FIXTURES


def test_csv_with_diacritic_headers_in_any_order_below_a_title_row() -> None:
    roster = read_roster(FIXTURES / "dai-bieu.csv")
    assert roster.problems == []
    assert [p["name"] for p in roster.participants][:3] == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert [p["role"] for p in roster.participants] == ["chair", "vice_chair", "delegate", "delegate", "delegate", "secretary", "guest"]
    assert [p["seat"] for p in roster.participants] == [1, 2, 3, 4, 5, None, None]
    assert (roster.participants[2]["title"], roster.participants[2]["unit"]) == ("Đại biểu", "Tổ dân phố 3, phường Thử nghiệm")
    assert roster.participants[0]["team"] == "Tổ 1"
    assert roster.lines[:2] == [3, 4]


def test_xlsx_with_headers_without_diacritics(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["to_dai_bieu", "chuc_vu", "HO_TEN", "so_ghe"])
    sheet.append(["Tổ 1", "Đại biểu", "Ngô Thị Lan", 7])
    sheet.append(["Tổ 2", "Đại biểu", "Bùi Văn Minh", 8.0])
    path = tmp_path / "ds.xlsx"
    book.save(path)
    roster = read_roster(path)
    assert roster.problems == []
    assert [(p["name"], p["seat"], p["team"]) for p in roster.participants] == [("Ngô Thị Lan", 7, "Tổ 1"), ("Bùi Văn Minh", 8, "Tổ 2")]


def test_every_problem_is_reported_with_its_line_number() -> None:
    roster = read_roster(FIXTURES / "dai-bieu-loi.csv")
    found = [(p.line, p.en) for p in roster.problems]
    assert found == [
        (4, "the name is blank"),
        (5, "seat 2 is already used on line 3"),
        (6, "duplicates line 3"),
        (6, "seat 2 is already used on line 3"),
        (7, "seat 'ghế năm' is not a number from 1 to 5000"),
    ]


def test_a_list_without_a_name_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("stt,chức vụ\n1,Đại biểu\n", encoding="utf-8")
    assert [p.line for p in read_roster(path).problems] == [1]


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is absent")
def test_the_500_row_corpus_list_reads_clean() -> None:
    roster = read_roster(CORPUS / "delegates-qh-xvi-derived.csv")
    assert roster.problems == []
    assert len(roster.participants) == 500
    assert roster.participants[0]["name"] == "TÔ LÂM"
