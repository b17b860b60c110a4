"""Issue 5 through the API: importing delegate lists, the seating plan, custom roles,
check-in with a PIN or a card, and the public display."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from tests.web.conftest import Hall

REPO = Path(__file__).resolve().parents[2]
CORPUS_LIST = REPO.parent / "shared" / "corpus" / "delegates-qh-xvi-derived.csv"
needs_corpus = pytest.mark.skipif(not CORPUS_LIST.exists(), reason="../shared/corpus is absent")


def corpus_rows(n: int) -> list[dict[str, str]]:
    with CORPUS_LIST.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))[:n]


def upload(hall: Hall, name: str, content: bytes, role: str = "secretary", **fields: str) -> Any:
    return hall.call("POST", "/api/participants/import", role, files={"file": (name, content)}, data=fields)


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def names(hall: Hall) -> list[str]:
    return [p["name"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]]


@needs_corpus
def test_corpus_like_xlsx_with_diacritic_headers_in_another_order_imports(hall: Hall) -> None:
    rows = corpus_rows(40)
    sheet = [["DANH SÁCH ĐẠI BIỂU"], [], ["Số ghế", "Đơn vị", "Chức vụ", "Họ và tên", "Tổ đại biểu"]]
    for i, r in enumerate(rows):
        name = unicodedata.normalize("NFD", r["ho_ten"]) if i == 5 else r["ho_ten"]  # typed on a Mac
        sheet.append([100 + i, r["noi_cong_tac"], r["nghe_nghiep_chuc_vu"], name, r["tinh_thanh"]])
    before = len(names(hall))
    answer = upload(hall, "dai-bieu.xlsx", xlsx(sheet))
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 40
    listed = hall.call("GET", "/api/participants", "secretary").json()["participants"]
    assert len(listed) == before + 40
    by_seat = {p["seat"]: p for p in listed}
    assert by_seat[100]["name"] == "TÔ LÂM"
    assert by_seat[105]["name"] == unicodedata.normalize("NFC", rows[5]["ho_ten"])
    assert by_seat[105]["name"] != unicodedata.normalize("NFD", rows[5]["ho_ten"])
    assert by_seat[100]["team"] == "THÀNH PHỐ HÀ NỘI"
    assert by_seat[100]["title"] == rows[0]["nghe_nghiep_chuc_vu"]
    assert by_seat[100]["unit"] == "Văn phòng Trung ương Đảng"
    assert by_seat[100]["role"] == "delegate"


@needs_corpus
def test_corpus_like_csv_with_headers_without_diacritics_imports_unseated(hall: Hall) -> None:
    rows = corpus_rows(25)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["chuc_vu", "ho_ten", "don_vi", "vai_tro"])
    for i, r in enumerate(rows):
        writer.writerow([r["nghe_nghiep_chuc_vu"], r["ho_ten"], r["noi_cong_tac"], "Chủ tọa" if i == 0 else ""])
    answer = upload(hall, "ds.csv", out.getvalue().encode("utf-8-sig"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 25
    listed = {p["name"]: p for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]}
    assert listed["TÔ LÂM"]["role"] == "chair"
    assert listed["LƯU NAM TIẾN"]["seat"] is None  # seated later in the plan editor


def test_duplicate_blank_name_and_seat_twice_are_refused_with_their_lines_and_nothing_is_imported(hall: Hall) -> None:
    text = (
        "Họ và tên,Số ghế,Chức vụ\n"
        "Nguyễn Văn An,11,Đại biểu\n"  # line 2
        "Trần Thị Bình,12,Đại biểu\n"  # line 3
        ",13,Đại biểu\n"  # line 4: blank name
        "Nguyễn Văn An,11,Đại biểu\n"  # line 5: the same person again (and seat 11 again)
        "Lê Văn Cường,12,Đại biểu\n"  # line 6: seat 12 used twice
        "Phạm Thị Dung,14,Đại biểu\n"
    )
    before = names(hall)
    answer = upload(hall, "loi.csv", text.encode())
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert [(p["line"], p["message_en"]) for p in body["detail"]["problems"]] == [
        (4, "the name is blank"),
        (5, "duplicates line 2"),
        (5, "seat 11 is already used on line 2"),
        (6, "seat 12 is already used on line 3"),
    ]
    assert sorted({p["line"] for p in body["detail"]["problems"]}) == [4, 5, 6]
    assert body["message"].startswith("Danh sách có 4 lỗi (dòng 4, 5, 5, 6)")
    assert names(hall) == before  # not even the four good rows


def test_a_shared_name_imports_and_an_ambiguous_one_asks_the_secretary(hall: Hall) -> None:
    shared = "ho_ten,don_vi\nNguyễn Văn Hùng,Phường Cửa Nam\nNguyễn Văn Hùng,Phường Hàng Bạc\n"
    assert upload(hall, "a.csv", shared.encode()).json()["imported"] == 2  # two people, one name

    ambiguous = "ho_ten,so_ghe\nĐỗ Thị Hà,21\nĐỗ Thị Hà,22\nVũ Văn Nam,23\n"
    asked = upload(hall, "b.csv", ambiguous.encode())
    assert asked.status_code == 409
    assert [(q["line"], q["first"]) for q in asked.json()["detail"]["questions"]] == [(3, 2)]
    assert "Đỗ Thị Hà" not in names(hall)
    preview = upload(hall, "b.csv", ambiguous.encode(), preview="1")
    assert preview.status_code == 200 and preview.json()["imported"] == 0
    one = upload(hall, "b.csv", ambiguous.encode(), answers=json.dumps({"3": "same"}))
    assert one.json()["imported"] == 2
    assert names(hall).count("Đỗ Thị Hà") == 1
    again = upload(hall, "c.csv", "ho_ten\nĐỗ Thị Hà\n".encode())  # the same name as someone on the box
    assert again.status_code == 409
    assert again.json()["detail"]["questions"][0]["first"] == 0
    two = upload(hall, "c.csv", "ho_ten\nĐỗ Thị Hà\n".encode(), answers=json.dumps({"2": "distinct"}))
    assert two.json()["imported"] == 1
    assert names(hall).count("Đỗ Thị Hà") == 2


def test_a_seat_already_taken_on_the_box_is_a_problem(hall: Hall) -> None:
    answer = upload(hall, "x.csv", "ho_ten,so_ghe\nMai Văn Tư,1\n".encode())
    assert answer.status_code == 400
    assert [(p["line"], p["message_en"]) for p in answer.json()["detail"]["problems"]] == [
        (2, "seat 1 is already taken by Người chair")
    ]


def test_only_the_secretary_imports(hall: Hall) -> None:
    for role in ("chair", "delegate", "guest", "display", "technician"):
        assert upload(hall, "x.csv", b"ho_ten\nA\n", role=role).status_code == 403


# -- the seating plan -------------------------------------------------------------


def plan_30(hall: Hall) -> dict[str, Any]:
    answer = hall.call("POST", "/api/seating/plan", "secretary", json={"sections": [
        {"shape": "presidium", "seats": 2, "block": "Đoàn Chủ tịch"},
        {"shape": "blocks", "blocks": 2, "rows": 2, "per_row": 7, "block": "Khối"},
    ]})
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["seating"])


def test_a_thirty_seat_plan_numbers_presidium_then_blocks(hall: Hall) -> None:
    seating = plan_30(hall)
    seats = seating["seats"]
    assert [s["n"] for s in seats] == list(range(1, 31))
    assert [s["kind"] for s in seats[:3]] == ["presidium", "presidium", "seat"]
    assert {s["block"] for s in seats[2:16]} == {"Khối 1"}
    assert {s["block"] for s in seats[16:]} == {"Khối 2"}
    assert seats[0]["y"] < seats[2]["y"]  # the presidium faces the hall
    assert seats[2]["unit"] == "3"


def test_a_plan_without_a_seat_frees_it_and_seats_move_by_swap(hall: Hall) -> None:
    hall.call("POST", "/api/seating/plan", "secretary", json={"sections": [{"shape": "rows", "rows": 1, "per_row": 2}]})
    people = {p["role"]: p for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]}
    assert [people[r]["seat"] for r in ("chair", "vice_chair", "delegate")] == [1, 2, None]  # seat 3 is gone
    chair, vice = hall.ids["chair"], hall.ids["vice_chair"]
    taken = hall.call("POST", "/api/seating/assign", "secretary", json={"assignments": [{"participant_id": chair, "seat": 2}]})
    assert (taken.status_code, taken.json()["detail"]["seat"]) == (409, 2)
    swap = hall.call("POST", "/api/seating/assign", "secretary", json={"assignments": [
        {"participant_id": chair, "seat": 2}, {"participant_id": vice, "seat": 1}]})
    assert swap.status_code == 200, swap.text
    seats = {p["id"]: p["seat"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]}
    assert (seats[chair], seats[vice]) == (2, 1)
    missing = hall.call("POST", "/api/seating/assign", "secretary", json={"assignments": [{"participant_id": chair, "seat": 9}]})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert hall.call("POST", "/api/seating/plan", "delegate", json={"sections": []}).status_code == 403


def test_bad_sections_are_refused_by_field(hall: Hall) -> None:
    bad = hall.call("POST", "/api/seating/plan", "secretary", json={"sections": [{"shape": "rows", "rows": 0, "per_row": 3}]})
    assert (bad.status_code, bad.json()["detail"]["field"]) == (400, "rows")
    clash = hall.call("POST", "/api/seating/plan", "secretary", json={"sections": [
        {"shape": "rows", "rows": 1, "per_row": 3}, {"shape": "rows", "rows": 1, "per_row": 3, "start": 2}]})
    assert (clash.status_code, clash.json()["detail"]["seat"]) == (400, 2)


@needs_corpus
def test_the_500_deputies_import_and_are_seated(hall: Hall) -> None:
    answer = upload(hall, CORPUS_LIST.name, CORPUS_LIST.read_bytes())
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 500
    plan = hall.call("POST", "/api/seating/plan", "secretary", json={"sections": [
        {"shape": "presidium", "seats": 7, "block": "Đoàn Chủ tịch"},
        {"shape": "arc", "rows": 10, "per_row": 50, "block": "Hội trường"},
    ]})
    assert len(plan.json()["seating"]["seats"]) == 507
    seated = hall.call("POST", "/api/seating/auto", "secretary", json={})
    assert seated.status_code == 200, seated.text
    listed = hall.call("GET", "/api/participants", "secretary").json()["participants"]
    deputies = [p for p in listed if p["role"] in ("delegate", "chair", "vice_chair")]
    assert len(deputies) == 503  # the 500 and the hall fixture's three
    assert sum(1 for p in deputies if p["seat"] is not None) == 503
    assert len({p["seat"] for p in deputies}) == 503
    state = hall.call("GET", "/api/state", "display").json()
    assert state["body"]["total_delegates"] == 503
    assert state["attendance"]["needed"] == 336


# -- custom roles ---------------------------------------------------------------------


def test_a_custom_role_gets_exactly_its_permissions(hall: Hall) -> None:
    made = hall.call("POST", "/api/roles", "secretary", json={"label": "Phóng viên", "label_en": "Press", "permissions": ["document.read"]})
    assert made.status_code == 200, made.text
    role = made.json()["role"]
    assert role["code"] == "custom_phong_vien"
    assert role["permissions"] == ["view", "document.read"]
    guest = hall.ids["guest"]
    assert hall.call("POST", f"/api/participants/{guest}/role", "secretary", json={"role": role["code"]}).status_code == 200
    me = hall.call("GET", "/api/me", "guest").json()
    assert (me["role"], me["permissions"]) == ("custom_phong_vien", ["document.read", "view"])
    assert hall.call("GET", "/api/documents", "guest").status_code == 200
    assert hall.call("POST", "/api/floor/request", "guest", json={}).status_code == 403
    voting = hall.call("POST", "/api/roles", "secretary", json={"label": "Cử tri", "permissions": ["poll.vote"]})
    assert (voting.status_code, voting.json()["detail"]["reserved"]) == (400, ["poll.vote"])
    unknown = hall.call("POST", "/api/roles", "secretary", json={"label": "X", "permissions": ["everything"]})
    assert unknown.json()["detail"]["unknown"] == ["everything"]
    roles = {r["code"]: r for r in hall.call("GET", "/api/state", "secretary").json()["roles"]}
    assert roles["custom_phong_vien"]["label"] == "Phóng viên" and roles["chair"]["custom"] is False
    imported = upload(hall, "r.csv", "ho_ten,vai_tro\nLý Thu Trang,Phóng viên\n".encode())
    assert imported.status_code == 200, imported.text
    listed = {p["name"]: p["role"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]}
    assert listed["Lý Thu Trang"] == "custom_phong_vien"


# -- attendance ---------------------------------------------------------------------


def open_sitting(hall: Hall) -> None:
    assert hall.call("POST", "/api/sitting/open", "chair", json={}).status_code == 200


def present(hall: Hall) -> list[str]:
    return list(hall.call("GET", "/api/state", "secretary").json()["attendance"]["present_ids"])


def test_check_in_with_a_pin_when_the_body_requires_it(hall: Hall) -> None:
    open_sitting(hall)
    assert hall.call("POST", "/api/attendance/pin-rule", "secretary", json={"required": True}).status_code == 200
    missing = hall.call("POST", "/api/attendance/check-in", "delegate", json={})
    assert (missing.status_code, missing.json()["detail"]["reason"]) == (403, "pin_missing")
    assert hall.call("POST", "/api/attendance/pin", "delegate", json={"pin": "2468"}).status_code == 200
    assert hall.call("POST", "/api/attendance/pin", "delegate", json={"pin": "1111"}).status_code == 403  # once only
    wrong = hall.call("POST", "/api/attendance/check-in", "delegate", json={"pin": "1357"})
    assert (wrong.status_code, wrong.json()["detail"]["reason"]) == (403, "pin_wrong")
    assert hall.ids["delegate"] not in present(hall)
    ok = hall.call("POST", "/api/attendance/check-in", "delegate", json={"pin": "2468"}, headers={"Idempotency-Key": "ci-1"})
    assert ok.status_code == 200, ok.text
    assert hall.ids["delegate"] in present(hall)
    # The secretary checks a delegate in without the delegate's PIN.
    assert hall.call("POST", f"/api/attendance/{hall.ids['chair']}/check-in", "secretary").status_code == 200
    assert hall.ids["chair"] in present(hall)


def test_pins_never_reach_the_journal_in_clear(hall: Hall, tmp_path: Path) -> None:
    assert hall.call("POST", f"/api/attendance/{hall.ids['chair']}/pin", "secretary", json={"pin": "97531"}).status_code == 200
    state = hall.client.app.state.appliance.state
    salt, digest = state.attendance_rules.pins[hall.ids["chair"]]
    assert len(salt) == 32 and len(digest) == 64
    records = [json.dumps(r) for _, r in hall.client.app.state.appliance.journal.records()]
    assert not any("97531" in r for r in records)


def test_a_check_in_card_checks_its_delegate_in_and_a_forged_one_is_refused(hall: Hall) -> None:
    open_sitting(hall)
    cards = hall.call("GET", "/api/attendance/cards", "secretary").json()["cards"]
    assert [c["seat"] for c in cards] == [1, 2, 3]
    card = next(c for c in cards if c["participant_id"] == hall.ids["vice_chair"])
    assert card["code"].startswith("PHSDD" + hall.ids["vice_chair"] + ".")
    assert card["qr_svg"].startswith("<svg") or "<svg" in card["qr_svg"][:200]
    done = hall.call("POST", "/api/attendance/card", "secretary", json={"code": card["code"]})
    assert done.status_code == 200, done.text
    assert done.json()["participant"]["seat"] == 2
    assert hall.ids["vice_chair"] in present(hall)
    forged = card["code"][:-1] + ("0" if card["code"][-1] != "0" else "1")
    assert hall.call("POST", "/api/attendance/card", "secretary", json={"code": forged}).json()["code"] == "not_found"
    assert hall.call("POST", "/api/attendance/card", "delegate", json={"code": card["code"]}).status_code == 403
    assert hall.call("POST", "/api/local/attendance/card", "secretary", json={"code": card["code"]}).status_code == 403


# -- the public display --------------------------------------------------------------


def test_the_public_display_is_off_until_enabled_and_shows_only_totals(hall: Hall) -> None:
    off = hall.call("GET", "/api/public", None)
    assert (off.status_code, off.json()["code"]) == (404, "not_found")
    assert hall.call("POST", "/api/public/enabled", "secretary", json={"enabled": True}).status_code == 200
    open_sitting(hall)
    for role in ("chair", "vice_chair", "delegate"):
        hall.call("POST", "/api/attendance/check-in", role, json={})
    poll = hall.call("POST", "/api/polls", "chair", json={"question": "Thông qua?", "method": "public",
                                                          "answers": ["for", "against", "abstain"], "rule": "more_than_half_of_total"}).json()["poll"]
    hall.call("POST", f"/api/polls/{poll['id']}/ballots", "delegate", json={"answer": "for"})
    hall.call("POST", f"/api/polls/{poll['id']}/close", "chair", json={})
    public = hall.call("GET", "/api/public", None).json()
    assert public["attendance"] == {"present": 3, "total": 3, "needed": 2, "quorum": True}
    assert public["polls"][0]["result"]["counts"] == {"for": 1, "against": 0, "abstain": 0, "not_voted": 2}
    text = json.dumps(public, ensure_ascii=False)
    assert "per_delegate" not in text and hall.ids["delegate"] not in text and "Người guest" not in text
