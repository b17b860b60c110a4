"""Editing and removing participants after import, through the API: corrections are NFC
and keep what was not given; removal revokes the person's devices, and is refused once a
sitting's record holds them (a ballot, a speech) or while a sitting counts its delegates."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect

from tests.web.conftest import Hall


def listed(hall: Hall) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]}


def refusal(answer: Any) -> tuple[int, str, str, str]:
    body = answer.json()
    return answer.status_code, body["code"], body["message"], body["message_en"]


def test_an_edit_normalises_the_name_and_keeps_the_fields_not_given(hall: Hall) -> None:
    pid = hall.ids["delegate"]
    typed = unicodedata.normalize("NFD", "Trần Thị Hoà Bình")  # typed on a Mac
    answer = hall.call("PUT", f"/api/participants/{pid}", "secretary", json={
        "name": f"  {typed} ", "title": "Phó Chủ nhiệm Ủy ban Kinh tế", "unit": "Phường Cửa Nam", "team": "Tổ 2"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["participant"] == {
        "id": pid, "name": "Trần Thị Hoà Bình", "role": "delegate", "seat": 3,
        "title": "Phó Chủ nhiệm Ủy ban Kinh tế", "team": "Tổ 2", "unit": "Phường Cửa Nam"}
    assert hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"team": "Tổ 3"}).status_code == 200
    assert listed(hall)[pid] == {
        "id": pid, "name": "Trần Thị Hoà Bình", "role": "delegate", "seat": 3,
        "title": "Phó Chủ nhiệm Ủy ban Kinh tế", "unit": "Phường Cửa Nam", "team": "Tổ 3"}
    # The delegate's own tablet sees the new name in its live state.
    me = hall.call("GET", "/api/state", "delegate").json()
    assert [p["name"] for p in me["participants"] if p["id"] == pid] == ["Trần Thị Hoà Bình"]


def test_bad_edits_are_refused_and_change_nothing(hall: Hall) -> None:
    pid = hall.ids["delegate"]
    before = listed(hall)[pid]
    assert refusal(hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"name": "  "})) == (
        400, "invalid", "Trường 'name' không được để trống.", "'name' must not be empty.")
    assert refusal(hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"title": 7})) == (
        400, "invalid", "Trường 'title' phải là chuỗi.", "'title' must be a string.")
    assert refusal(hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"seat": 9})) == (
        400, "invalid", "Không có trường nào để sửa.", "Nothing to change: give one of name, title, unit, team.")
    assert refusal(hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"team": "x" * 201})) == (
        400, "invalid", "Trường 'team' quá dài.", "'team' is too long.")
    assert refusal(hall.call("PUT", "/api/participants/p_nobody", "secretary", json={"name": "Ai"})) == (
        404, "not_found", "Không tìm thấy người tham dự.", "No such participant.")
    assert refusal(hall.call("PUT", f"/api/participants/{pid}", "delegate", json={"name": "Tự đổi tên"}))[:2] == (
        403, "forbidden")
    # The same name, title, unit and team as another participant is one person twice.
    twin = hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"name": "Người guest"})
    assert refusal(twin) == (
        409, "conflict", "Đã có Người guest cùng chức vụ, đơn vị và tổ: đây là một người.",
        "Người guest is already listed with the same title, unit and team: that is one person.")
    assert twin.json()["detail"] == {"participant_id": hall.ids["guest"]}
    assert listed(hall)[pid] == before
    # A shared name with a different unit is two people: allowed.
    shared = hall.call("PUT", f"/api/participants/{pid}", "secretary", json={"name": "Người guest", "unit": "Xã Đông"})
    assert shared.status_code == 200, shared.text


def test_removing_a_participant_revokes_their_device_and_frees_the_seat(hall: Hall) -> None:
    gid = hall.ids["guest"]
    devices = hall.call("GET", "/api/pairing/devices", "technician").json()["devices"]
    device = next(d["id"] for d in devices if d["participant_id"] == gid)
    assert hall.call("PUT", f"/api/participants/{gid}", "secretary", json={"team": "Khách"}).status_code == 200
    assert hall.call("POST", "/api/seating/assign", "secretary",
                     json={"assignments": [{"participant_id": gid, "seat": 9}]}).status_code == 200
    with hall.client.websocket_connect("/api/live", headers=hall.headers("guest")) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        answer = hall.call("DELETE", f"/api/participants/{gid}", "secretary")
        assert answer.status_code == 200, answer.text
        last: dict[str, Any] = {}
        with pytest.raises(WebSocketDisconnect):  # the tablet is told to wipe itself, then closed
            while True:
                last = ws.receive_json()
        assert last == {"type": "revoked", "wipe": True, "code": "device_revoked"}
    assert {k: v for k, v in answer.json().items() if k != "position"} == {"removed": gid, "revoked": [device]}
    assert gid not in listed(hall)
    assert refusal(hall.call("GET", "/api/state", "guest"))[:2] == (401, "device_revoked")
    after = {d["id"]: d for d in hall.call("GET", "/api/pairing/devices", "technician").json()["devices"]}
    assert after[device]["revoked"] is True
    # Seat 9 is free again; the id is gone for good.
    assert hall.call("POST", "/api/seating/assign", "secretary",
                     json={"assignments": [{"participant_id": hall.ids["display"], "seat": 9}]}).status_code == 200
    assert refusal(hall.call("DELETE", f"/api/participants/{gid}", "secretary")) == (
        404, "not_found", "Không tìm thấy người tham dự.", "No such participant.")
    assert refusal(hall.call("DELETE", f"/api/participants/{hall.ids['display']}", "chair"))[:2] == (403, "forbidden")


def test_nobody_in_a_sittings_record_is_removed(hall: Hall) -> None:
    chair, vice, delegate = hall.ids["chair"], hall.ids["vice_chair"], hall.ids["delegate"]
    assert hall.call("POST", "/api/sitting/open", "chair", json={}).status_code == 200
    for role in ("chair", "vice_chair", "delegate"):
        assert hall.call("POST", "/api/attendance/check-in", role, json={}).status_code == 200
    # While the sitting counts its delegates, none may leave the list.
    assert refusal(hall.call("DELETE", f"/api/participants/{vice}", "secretary")) == (
        409, "conflict", "Đang họp: không thể thêm hay bớt đại biểu của Hội đồng.",
        "A sitting is open: the body's delegates cannot change now.")
    poll = hall.call("POST", "/api/polls", "chair", json={"question": "Thông qua chương trình", "method": "public"}).json()["poll"]
    assert hall.call("POST", f"/api/polls/{poll['id']}/ballots", "delegate", json={"answer": "for"}).status_code == 200
    assert hall.call("POST", f"/api/polls/{poll['id']}/close", "chair", json={}).status_code == 200
    assert hall.call("POST", "/api/floor/grant", "chair", json={"to": chair}).status_code == 200
    assert hall.call("POST", "/api/floor/end", "chair", json={"to": chair}).status_code == 200
    assert hall.call("POST", "/api/sitting/close", "chair", json={}).status_code == 200

    voted = hall.call("DELETE", f"/api/participants/{delegate}", "secretary")
    assert refusal(voted) == (409, "conflict", "Người delegate đã biểu quyết: không thể xóa khỏi danh sách.",
                              "Người delegate has voted: they cannot be removed from the list.")
    spoke = hall.call("DELETE", f"/api/participants/{chair}", "secretary")
    assert refusal(spoke) == (409, "conflict", "Người chair đã phát biểu: không thể xóa khỏi danh sách.",
                              "Người chair has spoken: they cannot be removed from the list.")
    me = hall.call("GET", "/api/me", "secretary").json()["participant"]["id"]
    itself = hall.call("DELETE", f"/api/participants/{me}", "secretary")
    assert refusal(itself) == (409, "conflict", "Không thể tự xóa mình khỏi danh sách.",
                               "You cannot remove yourself from the list.")
    assert {chair, delegate} <= listed(hall).keys()
    # The vice chair was present but neither voted nor spoke: still part of the sitting's
    # record (attendance, and the body's size is the base of its results), so never removed.
    present = hall.call("DELETE", f"/api/participants/{vice}", "secretary")
    assert refusal(present) == (409, "conflict", "Người vice_chair đã điểm danh trong một phiên họp: không thể xóa khỏi danh sách.",
                                "Người vice_chair checked in to a sitting: they cannot be removed from the list.")
    state = hall.call("GET", "/api/state", "secretary").json()
    assert (vice in listed(hall), state["attendance"]["total"]) == (True, 3)


def test_a_delegate_who_missed_a_sitting_that_met_stays_on_the_list(hall: Hall) -> None:
    delegate = hall.ids["delegate"]
    assert hall.call("POST", "/api/sitting/open", "chair", json={}).status_code == 200
    assert hall.call("POST", "/api/sitting/close", "chair", json={}).status_code == 200
    assert refusal(hall.call("DELETE", f"/api/participants/{delegate}", "secretary")) == (
        409, "conflict",
        "Kỳ họp đã có phiên họp: không thể bớt đại biểu của Hội đồng (tổng số đại biểu là căn cứ tính kết quả).",
        "A sitting of this session has met: the body's delegates cannot be removed (their number is the base of every result).")
    assert delegate in listed(hall)
