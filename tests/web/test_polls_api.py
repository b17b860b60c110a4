"""The poll life cycle through the HTTP API, and ballots racing the close on the real server."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import Hall
from tests.web.realserver import Driver

Q = "Tán thành thông qua Nghị quyết?"


def opened(hall: Hall, **body: Any) -> dict[str, Any]:
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        hall.call("POST", "/api/attendance/check-in", role, json={})
    r = hall.call("POST", "/api/polls", "chair", json={"question": Q, **body})
    assert r.status_code == 200, r.text
    return dict(r.json()["poll"])


def test_public_result_lists_each_delegate_and_secret_never(hall: Hall) -> None:
    poll = opened(hall)
    hall.call("POST", f"/api/polls/{poll['id']}/ballots", "delegate", json={"answer": "against"})
    hall.call("POST", f"/api/polls/{poll['id']}/ballots", "chair", json={"answer": "for"})
    result = hall.call("POST", f"/api/polls/{poll['id']}/close", "chair", json={}).json()["poll"]["result"]
    assert result["per_delegate"] == sorted(
        [{"participant_id": hall.ids["chair"], "answer": "for"}, {"participant_id": hall.ids["delegate"], "answer": "against"}],
        key=lambda r: r["participant_id"])
    secret = hall.call("POST", "/api/polls", "chair", json={"question": Q, "method": "secret"}).json()["poll"]
    hall.call("POST", f"/api/polls/{secret['id']}/ballots", "delegate", json={"answer": "for"})
    closed = hall.call("POST", f"/api/polls/{secret['id']}/close", "chair", json={}).json()["poll"]
    assert "per_delegate" not in closed["result"] and closed["result"]["counts"]["for"] == 1


def test_live_counts_only_with_show_live(hall: Hall) -> None:
    poll = opened(hall, show_live=True)
    hall.call("POST", f"/api/polls/{poll['id']}/ballots", "delegate", json={"answer": "for"})
    seen = hall.call("GET", f"/api/polls/{poll['id']}", "guest").json()["poll"]
    assert seen["live"]["counts"] == {"for": 1, "against": 0, "abstain": 0, "not_voted": 2}
    assert (seen["voted"], seen["result"]) == (1, None)
    r = hall.call("POST", "/api/polls", "chair", json={"question": Q, "method": "secret", "show_live": True})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")


def test_annul_and_repeat_over_the_api(hall: Hall) -> None:
    poll = opened(hall)
    hall.call("POST", f"/api/polls/{poll['id']}/ballots", "delegate", json={"answer": "for"})
    r = hall.call("POST", f"/api/polls/{poll['id']}/annul", "delegate", json={"reason": "x"})
    assert r.json()["code"] == "forbidden"
    body = hall.call("POST", f"/api/polls/{poll['id']}/annul", "chair", json={"reason": "Sự cố"}).json()
    assert (body["poll"]["annulled"], body["poll"]["annul_reason"], body["poll"]["status"]) == (True, "Sự cố", "closed")
    assert (body["repeat"]["repeat_of"], body["repeat"]["question"], body["repeat"]["status"]) == (poll["id"], Q, "open")
    r = hall.call("POST", f"/api/polls/{body['repeat']['id']}/ballots", "delegate", json={"answer": "for"})
    assert r.status_code == 200


def test_prepared_poll_is_opened_with_one_tap(hall: Hall) -> None:
    r = hall.call("POST", "/api/polls/prepared", "secretary", json={"item": 1, "question": "Bầu thư ký kỳ họp",
                                                                     "method": "secret", "kind": "election",
                                                                     "candidates": ["An", "Bình"], "choose": 1})
    prepared = r.json()["id"]
    assert hall.call("POST", "/api/polls/prepared", "delegate", json={"question": Q}).json()["code"] == "forbidden"
    listed = hall.call("GET", "/api/polls/prepared", "chair").json()["prepared"]
    assert [(p["id"], p["used"]) for p in listed] == [(prepared, False)]
    opened(hall)
    poll = hall.call("POST", f"/api/polls/prepared/{prepared}/open", "chair", json={}).json()["poll"]
    assert (poll["kind"], poll["candidates"], poll["prepared_id"]) == ("election", ["An", "Bình"], prepared)
    again = hall.call("POST", f"/api/polls/prepared/{prepared}/open", "chair", json={})
    assert again.json()["code"] == "conflict"
    series = hall.call("POST", "/api/polls/series", "secretary",
                       json={"title": "Nghị quyết X", "articles": ["Điều 1", "Điều 2"]}).json()
    assert len(series["ids"]) == 3


def test_paper_counts_over_the_api(hall: Hall) -> None:
    opened(hall)
    r = hall.call("POST", "/api/polls/paper", "secretary",
                  json={"question": Q, "counts": {"for": 2, "against": 0, "abstain": 0}, "invalid": 1})
    assert r.status_code == 200, r.text
    result = r.json()["poll"]["result"]
    assert (result["counts"], result["invalid"], result["turnout"]) == (
        {"for": 2, "against": 0, "abstain": 0, "not_voted": 0}, 1, 3)
    blank = hall.call("POST", "/api/polls/paper", "secretary",
                      json={"question": Q, "counts": {"for": 2, "against": None, "abstain": 0}, "invalid": 0})
    assert (blank.status_code, blank.json()["detail"]["field"]) == (400, "against")
    too_many = hall.call("POST", "/api/polls/paper", "secretary",
                         json={"question": Q, "counts": {"for": 2, "against": 1, "abstain": 0}, "invalid": 1})
    assert too_many.json()["code"] == "invalid"


NAMES = [f"Đại biểu Đua {i:02d}" for i in range(40)]


@pytest.mark.parametrize("method", ["public", "secret"])
async def test_a_ballot_racing_the_close_is_counted_or_refused_never_half(tmp_path: Path, method: str) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, 41)))
        for round_ in range(3):
            r = await c.post("/api/polls", json={"question": Q, "method": method}, headers=d.h("d1"))
            poll = r.json()["poll"]["id"]

            async def vote(i: int, poll: str = poll) -> tuple[str, int, str | None]:
                await asyncio.sleep(random.uniform(0, 0.03))
                r = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=d.h(f"d{i}"))
                return d.ids[f"d{i}"], r.status_code, r.json().get("code")

            async def close(poll: str = poll, round_: int = round_) -> Any:
                await asyncio.sleep(0.01 + 0.005 * round_)
                return await c.post(f"/api/polls/{poll}/close", json={}, headers=d.h("d1"))

            *answers, closing = await asyncio.gather(*(vote(i) for i in range(2, 41)), close())
            assert closing.status_code == 200
            result = closing.json()["poll"]["result"]
            counted = {pid for pid, status, _ in answers if status == 200}
            assert {code for _, status, code in answers if status != 200} <= {"poll_closed"}
            assert result["counts"]["for"] == result["turnout"] == len(counted)
            if method == "public":
                assert {row["participant_id"] for row in result["per_delegate"]} == counted
            view = (await c.get(f"/api/polls/{poll}", headers=d.h("d1"))).json()["poll"]
            assert view["voted"] == len(counted)
    await d.server.restart(hard=False)
    async with d.client() as c:
        state = (await c.get("/api/state", headers=d.h("secretary"))).json()
        for poll in state["polls"]:  # after a restart the results and the ballot box agree
            assert poll["result"]["counts"]["for"] == poll["voted"]
    await d.server.stop()
