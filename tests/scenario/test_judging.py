"""How steps and expectations are judged, without an appliance."""

from __future__ import annotations

import asyncio
import json
from io import StringIO
from pathlib import Path
from typing import Any

from appliance.scenario.actors import Person
from appliance.scenario.client import Api, Reply
from appliance.scenario.expect import matches, project, render
from appliance.scenario.model import Step
from appliance.scenario.report import Failure, Report, StepResult
from appliance.scenario.roster import generated_names
from appliance.scenario.session import Cast
from appliance.scenario.steps import Play, judge, remember_documents, request_for

D3 = Person("delegate", 3, "delegate 3")
D4 = Person("delegate", 4, "delegate 4")


def ok() -> Reply:
    return Reply(200, {"ok": True}, b"")


def refused(code: str) -> Reply:
    return Reply(409, {"code": code, "message": "vi", "message_en": "en"}, b"")


def step(**kw: Any) -> Step:
    return Step(n=1, line=1, raw={}, action="vote", actors=(D3,), **kw)


def test_named_keys_only_at_every_level() -> None:
    found = {"for": 16, "against": 4, "abstain": 1, "not_voted": 9}
    assert matches({"for": 16}, found)
    assert not matches({"for": 15}, found)
    assert not matches({"yes": 1}, found)


def test_numbers_exactly_and_booleans_are_not_numbers() -> None:
    assert matches(66.7, 66.7) and matches(30, 30.0)
    assert not matches(1, True) and not matches(True, 1)
    assert not matches("20", 20)


def test_lists_in_order() -> None:
    assert matches([D3, D4], [Person("delegate", 3), Person("delegate", 4)])
    assert not matches([D3, D4], [Person("delegate", 4), Person("delegate", 3)])
    assert not matches([D3], [D3, D4])


def test_found_is_cut_to_the_expectation_and_named_as_written() -> None:
    assert project({"for": 1}, {"for": 2, "against": 3}) == {"for": 2}
    chair = Person("delegate", 1, "delegate 1")
    assert render([Person("delegate", 1), D4], [chair]) == ["delegate 1", "delegate 4"]
    assert render([Person("delegate", 1)]) == ["chair"]


def test_plain_step_needs_success_expect_error_needs_that_refusal() -> None:
    assert judge(step(), {D3: [ok()]}).ok
    failed = judge(step(), {D3: [refused("not_present")]})
    assert (failed.ok, failed.expected, failed.found) == (False, "ok", "not_present")
    assert judge(step(expect_error="already_voted"), {D3: [refused("already_voted")]}).ok
    wrong = judge(step(expect_error="already_voted"), {D3: [ok()]})
    assert (wrong.ok, wrong.found) == (False, "ok")


def test_several_actors_report_who_failed() -> None:
    verdict = judge(step(), {D3: [ok()], D4: [refused("forbidden")]})
    assert not verdict.ok and verdict.found == {"delegate 4": "forbidden"}


def test_repeat_needs_one_success_and_only_the_named_refusal() -> None:
    repeated = step(repeat=3, expect_error="already_voted")
    assert judge(repeated, {D3: [refused("already_voted"), ok(), refused("already_voted")]}).ok
    assert not judge(repeated, {D3: [refused("already_voted")] * 3}).ok
    assert not judge(repeated, {D3: [ok(), refused("invalid"), ok()]}).ok
    assert judge(step(repeat=2), {D3: [ok(), refused("anything")]}).ok


def test_requests_follow_the_http_contract() -> None:
    cast = Cast()
    cast.add(Person("delegate", 3), "p03", "tok")
    play = Play(api=None, cast=cast, documents={"1.1": "doc9"}, polls={"p1": "poll_abc"})  # type: ignore[arg-type]

    def req(action: str, **args: Any) -> tuple[str, str, Any, Any]:
        return request_for(play, Step(1, 1, {}, action=action, actors=(D3,), args=args))

    assert req("grant_floor", to=Person("delegate", 3))[1:3] == ("/api/floor/grant", {"to": "p03"})
    assert req("end_floor", to="all")[1:3] == ("/api/floor/end", {"to": "all"})
    assert req("vote", poll="p1", answer="for")[1:3] == (
        "/api/polls/poll_abc/ballots",
        {"answer": "for"},
    )
    assert req("close_poll", poll="zz")[1] == "/api/polls/zz/close"
    assert req("check_in")[1] == "/api/attendance/check-in"
    assert req("open_document", doc="1.1", page=2)[:2] == ("GET", "/api/documents/doc9/pages/2")
    assert req("open_poll", poll="p1", question="?", method="public")[2] == {
        "question": "?",
        "method": "public",
    }


def test_extension_requests_follow_the_http_contract(tmp_path: Path) -> None:
    cast = Cast()
    cast.add(Person("delegate", 3), "p03", "tok")
    cast.groups = {"to1": "grp7"}
    play = Play(api=None, cast=cast, documents={"1.1": "doc9"})  # type: ignore[arg-type]

    def req(action: str, **args: Any) -> Any:
        return request_for(play, Step(1, 1, {}, action=action, actors=(D3,), args=args))

    assert req("move_request", to=D3, direction="up")[1:3] == (
        "/api/floor/move",
        {"participant_id": "p03", "direction": "up"},
    )
    assert req("extend_floor", to=D3, s=60.0)[1:3] == ("/api/floor/extend", {"to": "p03", "seconds": 60})
    assert req("present_page", doc="1.1", page=3)[:3] == ("POST", "/api/documents/doc9/present", {"page": 3})
    first, second = req("annotate", doc="1.1", text="Hỏi lại"), req("annotate", doc="1.1", text="Hỏi lại")
    assert first.method == "PUT" and first.path.startswith("/api/annotations/scn-")
    assert first.path != second.path, "every request is a new note, with its own id"
    assert first.json == {"document": "doc9", "page": 1, "kind": "text", "at": [36.0, 36.0], "text": "Hỏi lại"}
    (tmp_path / "tt.pdf").write_bytes(b"%PDF-1.4\n")
    upload = req("upload_document", item=2, file=tmp_path / "tt.pdf", access="to1", password="x")
    assert upload[:2] == ("POST", "/api/documents")
    assert upload.data == {"item": "2", "access": "group:grp7", "password": "x"}
    assert upload.files == {"file": ("tt.pdf", b"%PDF-1.4\n", "application/pdf")}


def test_an_uploaded_document_takes_the_items_next_number() -> None:
    play = Play(api=None, cast=Cast(), documents={"1.1": "a", "2.1": "b"})  # type: ignore[arg-type]
    remember_documents(play, 1, [refused("unreadable_document"), Reply(200, {"document": {"id": "c"}}, b"")])
    remember_documents(play, 3, [Reply(200, {"document": {"id": "d"}}, b"")])
    assert play.documents == {"1.1": "a", "2.1": "b", "1.2": "c", "3.1": "d"}


def test_allowances_are_reported_in_the_files_words() -> None:
    expected = {D3: 240}
    assert matches(expected, {Person("delegate", 3): 240.0, D4: 420.0})
    assert not matches(expected, {D4: 240.0})
    assert render({Person("delegate", 3): 180.0}, [D3]) == {"delegate 3": 180.0}


def test_json_report_has_exactly_the_contract_keys() -> None:
    report = Report(
        "s",
        [StepResult(1, True, 3.21), StepResult(2, False, 1.0)],
        [Failure(2, {"expect": {"present": 21}}, {"present": 21}, {"present": 20}, "m")],
    )
    out = StringIO()
    report.write_json(out)
    data = json.loads(out.getvalue())
    assert list(data) == ["scenario", "passed", "steps", "failures"]
    assert data["passed"] is False
    assert data["steps"][0] == {"n": 1, "ok": True, "ms": 3.2}
    assert data["failures"][0] == {
        "n": 2,
        "step": {"expect": {"present": 21}},
        "expected": {"present": 21},
        "found": {"present": 20},
        "message": "m",
    }


def test_generated_names_are_seeded_and_distinct() -> None:
    import random

    first = generated_names(500, random.Random(7))
    assert first == generated_names(500, random.Random(7))
    assert len(set(first)) == 500


async def test_the_shared_client_keeps_no_cookies() -> None:
    """A pairing's cookie must not turn the next device (a stranger) into a paired one."""
    from aiohttp import web

    seen: list[str | None] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("cookie"))
        response = web.json_response({"ok": True})
        response.headers["Set-Cookie"] = "phs_token=secret; Path=/; HttpOnly"
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        api = Api(f"http://127.0.0.1:{port}")
        await api.call("POST", "/api/pair", json={"code": "1"})
        await api.call("GET", "/api/state")
        await api.aclose()
    finally:
        await runner.cleanup()
    assert seen == [None, None]


def test_scenario_files_live_where_the_suite_finds_them() -> None:
    root = Path(__file__).resolve().parents[1] / "scenarios"
    assert any(root.glob("quorum/*.yaml")) and any(root.glob("floor/*.yaml"))


async def test_an_appliance_that_stops_answering_ends_the_run() -> None:
    import pytest

    from appliance.scenario.client import ApplianceGone

    attempts: list[str | None] = []

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read the request, then close without answering (a server that died mid-request)."""
        head = await reader.readuntil(b"\r\n\r\n")
        key = [line.split(b":", 1)[1].strip().decode() for line in head.split(b"\r\n") if line.lower().startswith(b"idempotency-key:")]
        attempts.append(key[0] if key else None)
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        api = Api(f"http://127.0.0.1:{port}")
        with pytest.raises(ApplianceGone, match="stopped answering"):
            await api.call("POST", "/api/sitting/open", "tok", json={})
        await api.aclose()
    finally:
        server.close()
    # Every resend carries the same key, so the appliance can never apply it twice.
    assert len(attempts) == 5 and len(set(attempts)) == 1
