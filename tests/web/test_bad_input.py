"""Bad input gets its code, and nothing changes (the journal position stays put)."""

from __future__ import annotations

from tests.web.conftest import Hall


def position(hall: Hall) -> int:
    return int(hall.call("GET", "/api/state", "secretary").json()["position"])


def open_poll(hall: Hall) -> str:
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        assert hall.call("POST", "/api/attendance/check-in", role, json={}).status_code == 200
    response = hall.call("POST", "/api/polls", "chair", json={"question": "Tán thành?", "rule": "more_than_half_of_total"})
    assert response.status_code == 200
    return str(response.json()["poll"]["id"])


def test_unknown_route_and_method(hall: Hall) -> None:
    before = position(hall)
    r = hall.call("GET", "/api/nothing-here", "secretary")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = hall.call("POST", "/api/nothing-here", "secretary", json={"title": "x"})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = hall.call("DELETE", "/api/state", "secretary")
    assert (r.status_code, r.json()["code"]) == (405, "invalid")
    assert position(hall) == before


def test_malformed_json_and_wrong_types_change_nothing(hall: Hall) -> None:
    before = position(hall)
    r = hall.call("POST", "/api/agenda", "secretary", content=b"{not json", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = hall.call("POST", "/api/agenda", "secretary", json=["a list"])
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = hall.call("POST", "/api/agenda", "secretary", json={"title": 42})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = hall.call("POST", "/api/participants", "secretary", json={"participants": [{"name": "A", "seat": "one"}]})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert position(hall) == before


def test_vote_refusals_each_with_its_code(hall: Hall) -> None:
    poll = open_poll(hall)
    path = f"/api/polls/{poll}/ballots"
    opened = position(hall)
    r = hall.call("POST", path, None, json={"answer": "for"})
    assert (r.status_code, r.json()["code"]) == (401, "not_paired")
    r = hall.call("POST", path, "guest", json={"answer": "for"})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = hall.call("POST", path, "delegate", json={"answer": "perhaps"})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    assert position(hall) == opened  # an unpaired device, a guest, a wrong answer: nothing recorded
    assert hall.call("GET", f"/api/polls/{poll}", "display").json()["poll"]["voted"] == 0
    assert hall.call("POST", path, "delegate", json={"answer": "for"}).status_code == 200
    before = position(hall)
    r = hall.call("POST", path, "delegate", json={"answer": "against"})
    assert (r.status_code, r.json()["code"]) == (409, "already_voted")
    hall.call("POST", f"/api/polls/{poll}/close", "chair", json={})
    r = hall.call("POST", path, "chair", json={"answer": "for"})
    assert (r.status_code, r.json()["code"]) == (409, "poll_closed")
    result = hall.call("GET", f"/api/polls/{poll}", "display").json()["poll"]["result"]
    assert result["counts"] == {"for": 1, "against": 0, "abstain": 0, "not_voted": 2}
    assert result["passed"] is False
    assert position(hall) == before + 1  # only the close was recorded


def test_retry_with_same_idempotency_key_is_applied_once(hall: Hall) -> None:
    poll = open_poll(hall)
    headers = {**hall.headers("delegate"), "Idempotency-Key": "tablet-7-vote-1"}
    first = hall.client.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=headers)
    again = hall.client.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["position"] == again.json()["position"]
    assert hall.call("GET", f"/api/polls/{poll}", "chair").json()["poll"]["voted"] == 1


def test_wrong_pairing_codes_lock_out_the_address(hall: Hall) -> None:
    codes = [hall.call("POST", "/api/pair", None, json={"code": f"{n:06d}"}).json()["code"] for n in range(10)]
    assert codes == ["code_invalid"] * 9 + ["code_invalid"]
    r = hall.call("POST", "/api/pair", None, json={"code": "000000"})
    assert (r.status_code, r.json()["code"]) == (429, "locked_out")


def test_used_pairing_code_is_refused(hall: Hall) -> None:
    code = hall.call("POST", "/api/pairing-codes", "secretary", json={"participant_id": hall.ids["delegate"]}).json()["code"]
    assert hall.call("POST", "/api/pair", None, json={"code": code}).status_code == 200
    r = hall.call("POST", "/api/pair", None, json={"code": code})
    assert (r.status_code, r.json()["code"]) == (400, "code_invalid")
