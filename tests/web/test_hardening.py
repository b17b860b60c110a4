"""Regressions from the adversarial review: each was a 500, a bypass or a silent loss."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.web.service import Appliance
from tests.web.conftest import Hall


def test_reused_idempotency_key_for_another_request_is_refused(hall: Hall) -> None:
    headers = {"Idempotency-Key": "k1"}
    assert hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục A"}, headers=headers).status_code == 200
    r = hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục B"}, headers=headers)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    titles = [i["title"] for i in hall.call("GET", "/api/state", "secretary").json()["agenda"]]
    assert titles == ["Mục 1", "Mục A"]


@pytest.mark.parametrize("method", ["public", "secret"])
def test_a_key_reused_for_a_ballot_in_another_poll_is_a_conflict_not_a_lost_vote(hall: Hall, method: str) -> None:
    """The break-it pass: poll B answered with poll A's outcome, and B never counted the ballot."""
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        hall.call("POST", "/api/attendance/check-in", role, json={})
    key = {"Idempotency-Key": "ballot-1"}
    first = hall.call("POST", "/api/polls", "chair", json={"question": "Thông qua A?", "method": method}).json()["poll"]
    assert hall.call("POST", f"/api/polls/{first['id']}/ballots", "delegate", json={"answer": "for"}, headers=key).status_code == 200
    hall.call("POST", f"/api/polls/{first['id']}/close", "chair", json={})
    second = hall.call("POST", "/api/polls", "chair", json={"question": "Thông qua B?", "method": method}).json()["poll"]
    r = hall.call("POST", f"/api/polls/{second['id']}/ballots", "delegate", json={"answer": "for"}, headers=key)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    assert hall.call("GET", f"/api/polls/{second['id']}", "chair").json()["poll"]["voted"] == 0
    again = hall.call("POST", f"/api/polls/{second['id']}/ballots", "delegate", json={"answer": "for"}, headers={"Idempotency-Key": "ballot-2"})
    assert again.status_code == 200
    assert hall.call("GET", f"/api/polls/{second['id']}", "chair").json()["poll"]["voted"] == 1


def test_a_retried_poll_opening_still_answers_with_the_first_poll(hall: Hall) -> None:
    """Server-drawn ids stay out of the fingerprint of the commands that draw them."""
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        hall.call("POST", "/api/attendance/check-in", role, json={})
    key = {"Idempotency-Key": "open-1"}
    first = hall.call("POST", "/api/polls", "chair", json={"question": "Thông qua A?"}, headers=key)
    again = hall.call("POST", "/api/polls", "chair", json={"question": "Thông qua A?"}, headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["poll"]["id"] == again.json()["poll"]["id"]


def test_a_key_reused_to_remove_another_participant_is_a_conflict(hall: Hall) -> None:
    made = hall.call("POST", "/api/participants", "secretary", json={"participants": [
        {"name": "Khách Một", "role": "guest"}, {"name": "Khách Hai", "role": "guest"}]}).json()["participants"]
    key = {"Idempotency-Key": "remove-1"}
    assert hall.call("DELETE", f"/api/participants/{made[0]['id']}", "secretary", headers=key).status_code == 200
    r = hall.call("DELETE", f"/api/participants/{made[1]['id']}", "secretary", headers=key)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    names = [p["name"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]]
    assert ("Khách Một" in names, "Khách Hai" in names) == (False, True)


def test_retried_participant_import_answers_with_the_first_rows(hall: Hall) -> None:
    body = {"participants": [{"name": "Lê Văn Lặp", "role": "guest"}]}
    headers = {"Idempotency-Key": "import-1"}
    first = hall.call("POST", "/api/participants", "secretary", json=body, headers=headers)
    again = hall.call("POST", "/api/participants", "secretary", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["participants"] == again.json()["participants"]
    names = [p["name"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]]
    assert names.count("Lê Văn Lặp") == 1


def test_deeply_nested_json_is_invalid_not_a_crash(hall: Hall) -> None:
    body = ("[" * 5000 + "]" * 5000).encode()
    r = hall.call("POST", "/api/pair", None, content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")


def test_wrong_type_role_and_setup_ids_are_invalid(hall: Hall) -> None:
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": [{"name": "a", "role": {"x": 1}}]})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = hall.call("POST", "/api/setup", "secretary", json={"body": "x", "session": "y", "sittings": [{"a": 1}]})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")


def test_control_characters_are_stripped_from_titles(hall: Hall) -> None:
    r = hall.call("POST", "/api/agenda", "secretary", json={"title": "Mục\u0000 có\u0007 NUL"})
    assert r.json()["item"]["title"] == "Mục có NUL"


def test_technician_cannot_pair_a_delegate_device(hall: Hall) -> None:
    r = hall.call("POST", "/api/pairing-codes", "technician", json={"participant_id": hall.ids["chair"]})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = hall.call("POST", "/api/pairing-codes", "technician", json={"participant_id": hall.ids["display"]})
    assert r.status_code == 200


def test_token_in_query_string_is_not_a_credential(hall: Hall) -> None:
    r = hall.call("GET", f"/api/me?token={hall.tokens['secretary']}", None)
    assert (r.status_code, r.json()["code"]) == (401, "not_paired")


async def test_second_server_on_the_same_data_directory_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    first = Appliance(settings)
    await first.start()
    try:
        second = Appliance(settings)
        with pytest.raises(PhsError) as info:
            await second.start()
        assert info.value.code == "conflict"
        assert not (tmp_path / "data" / "snapshots").exists() or list((tmp_path / "data" / "snapshots").iterdir()) == []
    finally:
        await first.stop()
    await asyncio.sleep(0)


def _sitting_with_everyone_present(hall: Hall) -> None:
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        hall.call("POST", "/api/attendance/check-in", role, json={})


def test_a_confidence_assessment_of_forty_officials_takes_full_secret_ballots(hall: Hall) -> None:
    """The break-it pass: 35 candidates opened, then every ballot was 'larger than a slot'."""
    _sitting_with_everyone_present(hall)
    slate = [f"Nguyễn Thị Cán Bộ Số {i:02d}" for i in range(40)]
    opened = hall.call("POST", "/api/polls", "chair", json={
        "question": "Lấy phiếu tín nhiệm", "kind": "confidence", "candidates": slate})
    assert opened.status_code == 200, opened.text
    poll = opened.json()["poll"]["id"]
    for role in ("chair", "vice_chair", "delegate"):
        r = hall.call("POST", f"/api/polls/{poll}/ballots", role, json={"answers": {c: "trust" for c in slate}})
        assert r.status_code == 200, r.text
    result = hall.call("POST", f"/api/polls/{poll}/close", "chair", json={}).json()["poll"]["result"]
    assert result["turnout"] == 3
    assert json.dumps(result, ensure_ascii=False).count("Nguyễn Thị Cán Bộ Số") >= 40


def test_a_slate_too_long_for_a_secret_ballot_is_refused_when_the_poll_opens(hall: Hall) -> None:
    _sitting_with_everyone_present(hall)
    slate = [f"{'Ứng cử viên có họ tên rất dài ' * 6}số {i:03d}" for i in range(300)]  # ~190 characters each
    r = hall.call("POST", "/api/polls", "chair", json={"question": "Bầu", "kind": "election", "candidates": slate})
    assert (r.status_code, r.json()["code"], r.json()["message"]) == (
        400, "invalid", "Danh sách 300 ứng cử viên quá dài cho một phiếu kín; hãy chia thành nhiều lượt.")
    assert hall.call("GET", "/api/state", "chair").json()["polls"] == []


def test_candidates_are_cleaned_like_names_and_twins_refused(hall: Hall) -> None:
    """NFC/NFD twins split the count; an NFD ballot key was an 'unknown candidate'."""
    import unicodedata

    _sitting_with_everyone_present(hall)
    name = "Nguyễn Thị Hương"
    nfd = unicodedata.normalize("NFD", name)
    r = hall.call("POST", "/api/polls", "chair", json={"question": "Bầu", "kind": "election", "candidates": [name, nfd]})
    assert (r.status_code, r.json()["message"]) == (400, f"Ứng cử viên {name} có tên hai lần trong danh sách.")
    r = hall.call("POST", "/api/polls", "chair", json={"question": "Bầu", "kind": "election",
                                                       "candidates": [nfd + "\u200b ", "Trần  Văn\u00a0Bình"]})
    assert r.json()["poll"]["candidates"] == [name, "Trần Văn Bình"]
    poll = r.json()["poll"]["id"]
    vote = hall.call("POST", f"/api/polls/{poll}/ballots", "delegate", json={"answers": {nfd: "for"}})
    assert vote.status_code == 200, vote.text


def test_invisible_and_bidi_characters_are_dropped_from_names(hall: Hall) -> None:
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": [{"name": "\u200b\u200c\u200d", "role": "guest"}]})
    assert (r.status_code, r.json()["message"]) == (400, "Trường 'name' không được để trống.")
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": [{"name": "\u202eLê Văn\tTám\n", "role": "guest"}]})
    assert r.json()["participants"][0]["name"] == "Lê Văn Tám"


def test_the_same_person_twice_in_one_list_is_refused_as_the_import_and_edit_do(hall: Hall) -> None:
    twins = [{"name": "Phạm Thị Tư", "role": "guest"}, {"name": "phạm thị  tư ", "role": "guest"}]
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": twins})
    assert (r.status_code, r.json()["code"], r.json()["detail"]["row"]) == (409, "conflict", 2)
    names = [p["name"] for p in hall.call("GET", "/api/participants", "secretary").json()["participants"]]
    assert "Phạm Thị Tư" not in names
    # Namesakes are real (three deputies of the 16th National Assembly are NGUYỄN THÀNH TRUNG):
    # another unit, seats of their own, or the secretary's word (``namesake``) makes two people.
    namesakes = [{"name": "Phạm Thị Tư", "role": "guest"}, {"name": "Phạm Thị Tư", "role": "guest", "unit": "Phường Bến Thành"},
                 {"name": "Phạm Thị Tư", "role": "guest", "namesake": True},
                 {"name": "Võ Văn Năm", "role": "delegate", "seat": 7}, {"name": "Võ Văn Năm", "role": "delegate", "seat": 8}]
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": namesakes})
    assert r.status_code == 200, r.text
    assert [p["name"] for p in r.json()["participants"]] == ["Phạm Thị Tư"] * 3 + ["Võ Văn Năm"] * 2


def test_a_double_tapped_pairing_code_does_not_count_towards_the_lock_out(hall: Hall) -> None:
    """The break-it pass: 1 of 10 simultaneous sends paired, the other 9 counted as wrong guesses."""
    from appliance.web.trust import PER_ADDRESS

    made = hall.call("POST", "/api/participants", "secretary", json={"participants": [
        {"name": "Khách Chạm Hai Lần", "role": "guest"}, {"name": "Khách Sau", "role": "guest"}]}).json()["participants"]
    codes = [hall.call("POST", "/api/pairing-codes", "secretary", json={"participant_id": p["id"]}).json()["code"] for p in made]
    assert hall.call("POST", "/api/pair", None, json={"code": codes[0]}).status_code == 200
    for _ in range(PER_ADDRESS[0] + 2):  # the same code again and again, as a shaky finger sends it
        again = hall.call("POST", "/api/pair", None, json={"code": codes[0]})
        assert (again.status_code, again.json()["code"]) == (400, "code_invalid")
    later = hall.call("POST", "/api/pair", None, json={"code": codes[1]})
    assert later.status_code == 200, later.text  # not locked_out
