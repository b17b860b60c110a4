"""The poll life cycle, judged by the pure rules: countdown, correction, annul and repeat,
live partial results, prepared polls and series, paper counts, agenda amendments."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.core.errors import PhsError
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import section
from tests.meeting.conftest import SECRETARY, Sitting

Q = "Tán thành thông qua Nghị quyết?"


def refused(s: Sitting, actor: str | Actor, command: str, **args: Any) -> str:
    with pytest.raises(PhsError) as info:
        s.run(actor, command, **args)
    return info.value.code


def polls(state: SessionState, who: Actor | None = None) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in section(state, "polls", who or SECRETARY)}


def vote_range(s: Sitting, poll: str, first: int, last: int, answer: str) -> None:
    for i in range(first, last + 1):
        s.run(f"d{i}", "vote", poll_id=poll, answer=answer)


def test_a_ballot_after_the_countdown_is_poll_closed_even_before_the_timer_closes(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    sitting30.run("d1", "open_poll", poll_id="p", question=Q, duration_s=2)
    vote_range(sitting30, "p", 1, 16, "for")
    sitting30.clock.advance(2.0)
    assert refused(sitting30, "d17", "vote", poll_id="p", answer="for") == "poll_closed"
    (closed,) = sitting30.run("d1", "close_poll", poll_id="p")
    assert closed.result["counts"] == {"for": 16, "against": 0, "abstain": 0, "not_voted": 14}


def test_a_cast_ballot_is_final_unless_the_poll_allows_correction(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    sitting30.run("d1", "open_poll", poll_id="final", question=Q)
    sitting30.run("d3", "vote", poll_id="final", answer="for")
    assert refused(sitting30, "d3", "vote", poll_id="final", answer="against") == "already_voted"
    sitting30.run("d1", "close_poll", poll_id="final")
    sitting30.run("d1", "open_poll", poll_id="fix", question=Q, allow_correction=True)
    sitting30.run("d3", "vote", poll_id="fix", answer="for")
    (event,) = sitting30.run("d3", "vote", poll_id="fix", answer="against")
    assert event.type == "ballot_corrected"
    assert sitting30.run("d3", "vote", poll_id="fix", answer="against") == []
    (closed,) = sitting30.run("d1", "close_poll", poll_id="fix")
    assert closed.result["counts"] == {"for": 0, "against": 1, "abstain": 0, "not_voted": 29}
    assert closed.result["per_delegate"] == [{"participant_id": "d3", "answer": "against"}]


def test_a_secret_poll_refuses_correction_and_live_results(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    for flag in ("allow_correction", "show_live"):
        code = refused(sitting30, "d1", "open_poll", poll_id="s", question=Q, method="secret", **{flag: True})
        assert code == "invalid"


def test_live_partial_results_only_when_the_chair_asks_and_the_counter_never_goes_back(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    sitting30.run("d1", "open_poll", poll_id="plain", question=Q)
    sitting30.run("d1", "open_poll", poll_id="live", question=Q, show_live=True)
    seen = []
    for i in range(1, 6):
        sitting30.run(f"d{i}", "vote", poll_id="live", answer="for" if i < 4 else "against")
        sitting30.run(f"d{i}", "vote", poll_id="plain", answer="for")
        seen.append(polls(sitting30.state)["live"]["voted"])
    assert seen == [1, 2, 3, 4, 5]
    view = polls(sitting30.state, sitting30.actor("d7"))
    assert view["plain"]["live"] is None
    assert view["live"]["live"]["counts"] == {"for": 3, "against": 2, "abstain": 0, "not_voted": 25}
    assert "per_delegate" not in view["live"]["live"]


def test_annul_and_repeat_keeps_the_record_and_opens_the_same_spec(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    sitting30.run("d1", "open_poll", poll_id="p", question=Q, duration_s=60, rule="two_thirds_of_total")
    vote_range(sitting30, "p", 1, 10, "for")
    assert refused(sitting30, "d1", "annul_poll", poll_id="p", reason="  ", new_poll_id="p2") == "invalid"
    events = sitting30.run("d1", "annul_poll", poll_id="p", reason="Lỗi thiết bị", new_poll_id="p2")
    assert [e.type for e in events] == ["poll_closed", "poll_annulled", "poll_opened", "poll_settings"]
    view = polls(sitting30.state)
    assert (view["p"]["status"], view["p"]["annulled"], view["p"]["annul_reason"]) == ("closed", True, "Lỗi thiết bị")
    assert view["p"]["result"]["counts"]["for"] == 10
    assert (view["p2"]["status"], view["p2"]["repeat_of"], view["p"]["repeated_by"]) == ("open", "p", "p2")
    assert view["p2"]["rule"] == "two_thirds_of_total" and view["p2"]["closes_at"] - view["p2"]["opened_at"] == 60
    assert view["p2"]["voted"] == 0
    sitting30.run("d1", "vote", poll_id="p2", answer="for")  # voted in p, may vote again in the repeat
    assert refused(sitting30, "d1", "annul_poll", poll_id="p", reason="again", new_poll_id="p3") == "conflict"


def test_quorum_lost_mid_poll_keeps_the_poll_and_the_result_says_so(sitting30: Sitting) -> None:
    sitting30.open_with(20)
    sitting30.run("d1", "open_poll", poll_id="p", question=Q)
    vote_range(sitting30, "p", 1, 16, "for")
    for i in (17, 18):
        sitting30.run(f"d{i}", "check_out")
    assert section(sitting30.state, "attendance", SECRETARY)["quorum"] is False
    assert refused(sitting30, "d1", "open_poll", poll_id="q", question=Q) == "no_quorum"
    (closed,) = sitting30.run("d1", "close_poll", poll_id="p")
    assert (closed.result["passed"], closed.result["present_at_close"], closed.result["quorum_at_close"]) == (True, 18, False)


def test_prepared_series_opens_article_by_article_then_the_whole(sitting30: Sitting) -> None:
    ids = ["a1", "a2", "whole"]
    sitting30.run(SECRETARY, "prepare_series", title="Nghị quyết về ngân sách", articles=["Điều 1", "Điều 2"],
                  item=1, series="s1", ids=ids)
    listed = section(sitting30.state, "prepared", sitting30.actor("d1"))
    assert [(p["id"], p["step"], p["question"]) for p in listed] == [
        ("a1", 1, "Nghị quyết về ngân sách — Điều 1"), ("a2", 2, "Nghị quyết về ngân sách — Điều 2"),
        ("whole", 3, "Thông qua toàn văn Nghị quyết về ngân sách")]
    assert section(sitting30.state, "prepared", sitting30.actor("d5")) == []
    sitting30.open_with(30)
    assert refused(sitting30, "d1", "open_prepared", prepared_id="a2", poll_id="x") == "conflict"
    sitting30.run("d1", "open_prepared", prepared_id="a1", poll_id="p1")
    assert refused(sitting30, "d1", "open_prepared", prepared_id="a1", poll_id="x") == "conflict"
    sitting30.run("d1", "close_poll", poll_id="p1")
    sitting30.run("d1", "open_prepared", prepared_id="a2", poll_id="p2")
    assert polls(sitting30.state)["p2"]["series"] == "s1"
    assert refused(sitting30, "d5", "prepare_poll", id="x", question=Q) == "forbidden"


def test_paper_counts_become_the_result_with_invalid_ballots(sitting30: Sitting) -> None:
    sitting30.open_with(28)
    counts = {"for": 17, "against": 5, "abstain": 2}
    (opened, *_, closed) = sitting30.run(SECRETARY, "enter_paper_result", poll_id="paper", question=Q,
                                         method="secret", counts=counts, invalid=3)
    assert opened.type == "poll_opened" and closed.type == "poll_closed"
    result = polls(sitting30.state)["paper"]["result"]
    assert result["counts"] == {"for": 17, "against": 5, "abstain": 2, "not_voted": 3}
    assert (result["invalid"], result["turnout"], result["passed"]) == (3, 27, True)
    assert result["shares"]["not_voted"] == 10.0
    assert polls(sitting30.state)["paper"]["source"] == "paper"


@pytest.mark.parametrize(("counts", "invalid"), [
    ({"for": 17, "against": 5}, 0),            # a blank field
    ({"for": 17, "against": 5, "abstain": ""}, 0),
    ({"for": 20, "against": 5, "abstain": 2}, 4),  # 31 ballots from 30 delegates
    ({"for": 1, "against": 1, "abstain": 1}, None),
    ({"for": -1, "against": 1, "abstain": 1}, 0),
])
def test_paper_counts_refuse_blanks_and_impossible_totals(sitting30: Sitting, counts: dict[str, Any], invalid: Any) -> None:
    sitting30.open_with(30)
    code = refused(sitting30, SECRETARY, "enter_paper_result", poll_id="x", question=Q, counts=counts, invalid=invalid)
    assert code == "invalid"
    assert "x" not in sitting30.state.polls


def test_paper_election_counts_per_candidate(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    names = ["An", "Bình", "Chi"]
    counts = {"An": {"for": 20, "against": 5, "abstain": 3}, "Bình": {"for": 18, "against": 6, "abstain": 4},
              "Chi": {"for": 10, "against": 10, "abstain": 8}}
    sitting30.run(SECRETARY, "enter_paper_result", poll_id="e", question="Bầu", kind="election",
                  candidates=names, choose=2, counts=counts, valid=28, invalid=1)
    result = polls(sitting30.state)["e"]["result"]
    assert result["elected"] == ["An", "Bình"]
    assert result["counts"]["An"] == {"for": 20, "against": 5, "abstain": 3, "not_voted": 1}
    bad = {**counts, "Chi": {"for": 10, "against": 10, "abstain": 7}}
    assert refused(sitting30, SECRETARY, "enter_paper_result", poll_id="e2", question="Bầu", kind="election",
                   candidates=names, choose=2, counts=bad, valid=28, invalid=1) == "invalid"


def test_an_agenda_amendment_applies_only_when_passed(sitting30: Sitting) -> None:
    sitting30.open_with(30)
    sitting30.run("d1", "open_poll", poll_id="add", question="Bổ sung chương trình?",
                  amend={"action": "add", "title": "Điều chỉnh kế hoạch đầu tư công"})
    vote_range(sitting30, "add", 1, 16, "for")
    events = sitting30.run("d1", "close_poll", poll_id="add")
    assert [e.type for e in events] == ["poll_closed", "agenda_item_added"]
    assert [i.title for i in sitting30.state.agenda] == ["Mục 1", "Điều chỉnh kế hoạch đầu tư công"]
    assert refused(sitting30, "d1", "annul_poll", poll_id="add", reason="x", new_poll_id="y") == "conflict"
    sitting30.run("d1", "open_poll", poll_id="ren", question="Đổi tên mục 1?",
                  amend={"action": "change", "item": 1, "title": "Mục 1 (sửa)"})
    vote_range(sitting30, "ren", 1, 15, "for")  # 15 of 30 is not more than half
    assert [e.type for e in sitting30.run("d1", "close_poll", poll_id="ren")] == ["poll_closed"]
    assert sitting30.state.agenda[0].title == "Mục 1"
    sitting30.run("d1", "open_poll", poll_id="ren2", question="Đổi tên mục 1?",
                  amend={"action": "change", "item": 1, "title": "Mục 1 (sửa)"})
    vote_range(sitting30, "ren2", 1, 16, "for")
    sitting30.run("d1", "close_poll", poll_id="ren2")
    assert sitting30.state.agenda[0].title == "Mục 1 (sửa)"


@pytest.mark.parametrize(
    ("answers", "candidates", "kind"),
    [
        (["for", "against", "abstain"], ["An", "Bình"], "election"),
        (["high", "trust", "low"], ["An"], "confidence"),
        (["trust", "no_trust"], None, "confidence_vote"),
    ],
)
def test_elections_and_confidence_votes_are_secret_ballots_only(
    sitting30: Sitting, answers: list[str], candidates: list[str] | None, kind: str
) -> None:
    """Luật TCCQĐP 2025 (elections) and NQ96 (confidence assessment, vote of confidence) hold
    them by secret ballot: a public one is refused before it opens; without a method, secret."""
    sitting30.open_with(25)
    with pytest.raises(PhsError) as info:
        sitting30.run("d1", "open_poll", poll_id="pub", question="Q", method="public", answers=answers,
                      kind=kind, candidates=candidates)
    err = info.value
    assert (err.code, err.message, err.message_en, err.detail["field"]) == (
        "invalid",
        "Bầu cử, lấy phiếu tín nhiệm và bỏ phiếu tín nhiệm phải bỏ phiếu kín.",
        "Elections, confidence assessments and votes of confidence are secret ballots.",
        "method",
    )
    assert "pub" not in sitting30.state.polls
    sitting30.run("d1", "open_poll", poll_id="sec", question="Q", answers=answers, kind=kind, candidates=candidates)
    assert sitting30.state.polls["sec"].spec["method"] == "secret"
