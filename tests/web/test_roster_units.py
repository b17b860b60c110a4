"""A list's "Đơn vị" column is the participant's unit, its "Chức vụ" their title: kept apart."""

from __future__ import annotations

from typing import Any

from appliance.meeting.roster import Roster, check_rows, rows_from_bytes
from tests.web.conftest import Hall

LIST = (
    "Họ và tên,Chức vụ,Đơn vị,Số ghế\n"
    "Nguyễn Thị Mai,Phó Chủ nhiệm Ủy ban Kinh tế,\"Phường Cửa Nam, Hà Nội\",11\n"
    "Trần Văn Long,Đại biểu,,12\n"
    "Lê Hoàng Yến,,Trường THCS Thử nghiệm,13\n"
)


def upload(hall: Hall, name: str, content: bytes, **fields: str) -> Any:
    return hall.call("POST", "/api/participants/import", "secretary", files={"file": (name, content)}, data=fields)


def test_the_unit_column_is_read_into_unit_and_the_title_column_into_title() -> None:
    roster = check_rows(Roster("ds.csv"), rows_from_bytes(LIST.encode("utf-8"), "ds.csv"))
    assert roster.problems == []
    assert [(p["title"], p["unit"]) for p in roster.participants] == [
        ("Phó Chủ nhiệm Ủy ban Kinh tế", "Phường Cửa Nam, Hà Nội"),
        ("Đại biểu", ""),
        ("", "Trường THCS Thử nghiệm"),
    ]


def test_an_imported_list_keeps_title_and_unit_apart_on_the_box(hall: Hall) -> None:
    answer = upload(hall, "ds.csv", LIST.encode("utf-8-sig"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 3
    listed = {p["seat"]: p for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]}
    assert (listed[11]["title"], listed[11]["unit"]) == ("Phó Chủ nhiệm Ủy ban Kinh tế", "Phường Cửa Nam, Hà Nội")
    assert (listed[12]["title"], listed[12]["unit"]) == ("Đại biểu", "")
    assert (listed[13]["title"], listed[13]["unit"]) == ("", "Trường THCS Thử nghiệm")


def test_a_shared_name_with_another_unit_is_two_people_and_the_same_unit_is_asked(hall: Hall) -> None:
    told_apart = "ho_ten,chuc_vu,don_vi\nPhạm Văn Đức,Đại biểu,Phường Cửa Nam\nPhạm Văn Đức,Đại biểu,Phường Hàng Bạc\n"
    assert upload(hall, "a.csv", told_apart.encode()).json()["imported"] == 2
    same = "ho_ten,chuc_vu,don_vi\nPhạm Văn Đức,Đại biểu,Phường Cửa Nam\n"
    asked = upload(hall, "b.csv", same.encode())
    assert (asked.status_code, asked.json()["detail"]["problems"]) == (400, [
        {"line": 2, "message": "Phạm Văn Đức đã có trong danh sách", "message_en": "Phạm Văn Đức is already on the list"}
    ])
