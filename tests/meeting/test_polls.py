"""Exact-value tests of the vote arithmetic; each rule test names its legal source.

LTCCQĐP = Luật Tổ chức chính quyền địa phương: 2015 (77/2015/QH13) Điều 91 khoản 3,
now 72/2025/QH15 Điều 35 (in force 16 June 2025). NQ96 = Nghị quyết 96/2023/QH15.
See docs/RULES.md for what is confirmed and what is not.
"""

from __future__ import annotations

from typing import Any

import pytest

from appliance.core.errors import PhsError
from appliance.meeting.polls import RULES, PollSpec, make_spec, normalize_ballot, tally
from appliance.meeting.polls_rules import threshold
from appliance.meeting.polls_shares import share


def motion(rule: str = "more_than_half_of_total", method: str = "public") -> PollSpec:
    return make_spec(
        "p1", "Tán thành thông qua Nghị quyết?", method, ["for", "against", "abstain"], rule
    )


def ballots(**counts: int) -> list[str]:
    return [code for code, n in counts.items() for _ in range(n)]


# -- the SCENARIO.md example, exactly ------------------------------------------------


def test_scenario_example_result_has_the_contract_shape_and_values() -> None:
    spec = motion()
    cast = ballots(**{"for": 16, "against": 4, "abstain": 1})
    voters = {f"d{i + 1:02d}": code for i, code in enumerate(cast)}
    result = tally(spec, cast, total=30, present=25, voters=voters)
    assert list(result) == [
        "base",
        "base_kind",
        "threshold",
        "turnout",
        "counts",
        "shares",
        "passed",
        "per_delegate",
    ]
    assert result["base"] == 30
    assert result["base_kind"] == "total"
    assert result["threshold"] == 16
    assert result["turnout"] == 21
    assert result["counts"] == {"for": 16, "against": 4, "abstain": 1, "not_voted": 9}
    assert result["shares"] == {"for": 53.3, "against": 13.3, "abstain": 3.3, "not_voted": 30.0}
    assert result["passed"] is True
    assert result["per_delegate"][0] == {"participant_id": "d01", "answer": "for"}
    assert result["per_delegate"][-1] == {"participant_id": "d21", "answer": "abstain"}


# -- thresholds ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "base", "expected"),
    [
        ("more_than_half_of_total", 30, 16),
        ("more_than_half_of_total", 31, 16),
        ("more_than_half_of_total", 1, 1),
        ("two_thirds_of_total", 30, 20),
        ("two_thirds_of_total", 31, 21),
        ("two_thirds_of_total", 32, 22),
        ("two_thirds_of_total", 3, 2),
        ("two_thirds_of_total", 500, 334),
        ("more_than_half_of_present", 25, 13),
        ("more_than_half_of_cast", 0, 1),
        ("two_thirds_of_total", 0, 1),
    ],
)
def test_threshold_is_the_smallest_count_that_meets_the_rule(
    rule: str, base: int, expected: int
) -> None:
    assert threshold(rule, base) == expected


# -- more than half of total (LTCCQĐP 2015 Đ.91 k.3; 2025 Đ.35) ------------------------


def test_more_than_half_of_total_exactly_half_fails_ltccqdp_dieu_35() -> None:
    result = tally(motion(), ballots(**{"for": 15, "against": 15}), total=30, present=30)
    assert result["passed"] is False
    assert result["counts"] == {"for": 15, "against": 15, "abstain": 0, "not_voted": 0}
    assert result["shares"] == {"for": 50.0, "against": 50.0, "abstain": 0.0, "not_voted": 0.0}


def test_more_than_half_of_total_counts_absent_delegates_in_the_base_ltccqdp_dieu_35() -> None:
    # 15 of 25 present is a clear majority of the room but not of the body of 30.
    result = tally(motion(), ballots(**{"for": 15, "against": 10}), total=30, present=25)
    assert result["passed"] is False
    assert result["threshold"] == 16
    assert result["counts"]["not_voted"] == 5


def test_more_than_half_of_total_one_over_half_passes_ltccqdp_dieu_35() -> None:
    result = tally(motion(), ballots(**{"for": 16}), total=30, present=20)
    assert result["passed"] is True
    assert result["shares"] == {"for": 53.3, "against": 0.0, "abstain": 0.0, "not_voted": 46.7}


def test_more_than_half_of_total_odd_body_ltccqdp_dieu_35() -> None:
    assert tally(motion(), ballots(**{"for": 15}), total=31, present=31)["passed"] is False
    assert tally(motion(), ballots(**{"for": 16}), total=31, present=31)["passed"] is True


# -- two thirds of total (dismissal, bãi nhiệm: LTCCQĐP 2015 Đ.91 k.3; 2025 Đ.35) -------


def test_two_thirds_exactly_met_passes_20_of_30_bai_nhiem_ltccqdp_dieu_35() -> None:
    result = tally(
        motion("two_thirds_of_total", "secret"),
        ballots(**{"for": 20, "against": 5}),
        total=30,
        present=28,
    )
    assert result["passed"] is True
    assert result["threshold"] == 20
    assert result["shares"] == {"for": 66.7, "against": 16.7, "abstain": 0.0, "not_voted": 16.7}


def test_two_thirds_just_missed_fails_19_of_30_bai_nhiem_ltccqdp_dieu_35() -> None:
    result = tally(
        motion("two_thirds_of_total", "secret"),
        ballots(**{"for": 19, "against": 11}),
        total=30,
        present=30,
    )
    assert result["passed"] is False
    assert result["counts"] == {"for": 19, "against": 11, "abstain": 0, "not_voted": 0}


def test_two_thirds_of_31_needs_21_bai_nhiem_ltccqdp_dieu_35() -> None:
    spec = motion("two_thirds_of_total")
    assert tally(spec, ballots(**{"for": 20}), total=31, present=31)["passed"] is False
    assert tally(spec, ballots(**{"for": 21}), total=31, present=31)["passed"] is True


# -- bases present and cast (procedural rules, not from the law) -----------------------


def test_base_present_counts_checked_in_delegates_at_close() -> None:
    result = tally(
        motion("more_than_half_of_present"),
        ballots(**{"for": 13, "against": 7}),
        total=30,
        present=24,
    )
    assert (result["base"], result["base_kind"], result["threshold"]) == (24, "present", 13)
    assert result["passed"] is True
    assert result["shares"] == {"for": 54.2, "against": 29.2, "abstain": 0.0}
    assert result["counts"]["not_voted"] == 10


def test_base_present_exactly_half_fails() -> None:
    result = tally(
        motion("more_than_half_of_present"), ballots(**{"for": 12}), total=30, present=24
    )
    assert result["passed"] is False


def test_base_cast_includes_abstentions() -> None:
    # 10 for of 19 ballots passes; the same 10 for with 2 more abstentions (21) does not.
    spec = motion("more_than_half_of_cast")
    passing = tally(spec, ballots(**{"for": 10, "against": 9}), total=30, present=30)
    failing = tally(spec, ballots(**{"for": 10, "against": 9, "abstain": 2}), total=30, present=30)
    assert (passing["base"], passing["base_kind"], passing["threshold"]) == (19, "cast", 10)
    assert passing["passed"] is True
    assert (failing["base"], failing["threshold"]) == (21, 11)
    assert failing["passed"] is False
    assert failing["shares"] == {"for": 47.6, "against": 42.9, "abstain": 9.5}


def test_all_abstain_fails_every_rule() -> None:
    for rule in RULES:
        result = tally(motion(rule), ballots(abstain=30), total=30, present=30)
        assert result["passed"] is False, rule
        assert result["counts"] == {"for": 0, "against": 0, "abstain": 30, "not_voted": 0}


def test_no_one_voted_fails_and_not_voted_is_everyone() -> None:
    for rule in RULES:
        result = tally(motion(rule), [], total=30, present=25)
        assert result["passed"] is False, rule
        assert result["turnout"] == 0
        assert result["counts"] == {"for": 0, "against": 0, "abstain": 0, "not_voted": 30}
    cast_base = tally(motion("more_than_half_of_cast"), [], total=30, present=25)
    assert cast_base["base"] == 0
    assert cast_base["shares"] == {"for": 0.0, "against": 0.0, "abstain": 0.0}


def test_not_voted_is_never_negative_when_turnout_exceeds_total() -> None:
    result = tally(motion(), ballots(**{"for": 3}), total=2, present=2)
    assert result["counts"]["not_voted"] == 0


# -- shares --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "base", "expected"),
    [
        (1, 16, 6.3),
        (1, 3, 33.3),
        (2, 3, 66.7),
        (1, 8, 12.5),
        (1, 40, 2.5),
        (0, 0, 0.0),
        (5, 0, 0.0),
    ],
)
def test_share_rounds_half_away_from_zero(count: int, base: int, expected: float) -> None:
    assert share(count, base) == expected


# -- public and secret -------------------------------------------------------------


def test_per_delegate_is_sorted_by_participant_id() -> None:
    voters = {"d10": "for", "d02": "against", "d07": "abstain"}
    result = tally(motion(), list(voters.values()), total=10, present=10, voters=voters)
    assert [row["participant_id"] for row in result["per_delegate"]] == ["d02", "d07", "d10"]


def test_secret_poll_result_has_no_per_delegate() -> None:
    result = tally(motion(method="secret"), ballots(**{"for": 3}), total=5, present=5)
    assert "per_delegate" not in result
    with pytest.raises(ValueError):
        tally(motion(method="secret"), ["for"], total=5, present=5, voters={"d1": "for"})


# -- elections -------------------------------------------------------------------------


def election(choose: int | None = None, rule: str | None = None) -> PollSpec:
    return make_spec(
        "e1",
        "Bầu Phó Chủ tịch",
        "secret",
        [],
        rule,
        candidates=["An", "Bình", "Chi"],
        choose=choose,
    )


def test_election_spec_is_inferred_from_candidates() -> None:
    spec = election(choose=2)
    assert spec.kind == "election"
    assert spec.answers == ("for", "against", "abstain")
    assert spec.rule == "more_than_half_of_total"


def test_election_left_out_candidate_counts_as_abstain() -> None:
    spec = election()
    assert normalize_ballot(spec, None, {"An": "for"}) == {
        "An": "for",
        "Bình": "abstain",
        "Chi": "abstain",
    }
    result = tally(spec, [{"An": "for"}] * 16, total=30, present=30)
    assert result["counts"]["Bình"] == {"for": 0, "against": 0, "abstain": 16, "not_voted": 14}
    assert result["elected"] == ["An"]


def test_election_with_choose_elects_by_votes_most_first() -> None:
    spec = election(choose=2)
    cast: list[Any] = (
        [{"An": "for", "Chi": "for"}] * 17
        + [{"Bình": "for", "Chi": "for"}] * 8
        + [{"An": "for", "Bình": "for"}] * 2
    )
    result = tally(spec, cast, total=30, present=28)
    assert {c: result["counts"][c]["for"] for c in ("An", "Bình", "Chi")} == {
        "An": 19,
        "Bình": 10,
        "Chi": 25,
    }
    assert result["elected"] == ["Chi", "An"]
    assert result["tie"] is False
    assert result["shares"]["Chi"] == {
        "for": 83.3,
        "against": 0.0,
        "abstain": 6.7,
        "not_voted": 10.0,
    }


def test_election_more_qualified_than_places_takes_the_most_votes() -> None:
    spec = election(choose=2)
    cast: list[Any] = (
        [{"An": "for", "Bình": "for"}] * 12
        + [{"An": "for", "Chi": "for"}] * 9
        + [{"Bình": "for", "Chi": "for"}] * 8
    )
    # An 21, Bình 20, Chi 17: all three meet 16, the two places go to An and Bình.
    result = tally(spec, cast, total=30, present=30)
    assert [result["counts"][c]["for"] for c in ("An", "Bình", "Chi")] == [21, 20, 17]
    assert result["elected"] == ["An", "Bình"]
    assert result["tie"] is False


def test_election_tie_inside_the_places_elects_both() -> None:
    spec = election(choose=2)
    cast: list[Any] = (
        [{"An": "for", "Bình": "for"}] * 12
        + [{"An": "for", "Chi": "for"}] * 8
        + [{"Bình": "for", "Chi": "for"}] * 8
    )
    # An 20, Bình 20, Chi 16: the tie is for first place, the last place is clear.
    result = tally(spec, cast, total=30, present=30)
    assert [result["counts"][c]["for"] for c in ("An", "Bình", "Chi")] == [20, 20, 16]
    assert result["elected"] == ["An", "Bình"]
    assert result["tie"] is False


def test_election_tie_at_last_place_elects_nobody_for_it() -> None:
    spec = election(choose=2)
    cast: list[Any] = (
        [{"An": "for", "Bình": "for"}] * 9
        + [{"An": "for", "Chi": "for"}] * 9
        + [{"Bình": "for", "Chi": "for"}] * 9
        + [{"An": "for"}] * 3
    )
    # An 21, Bình 18, Chi 18: the second place is tied, so only An is elected.
    result = tally(spec, cast, total=30, present=30)
    assert {c: result["counts"][c]["for"] for c in ("An", "Bình", "Chi")} == {
        "An": 21,
        "Bình": 18,
        "Chi": 18,
    }
    assert result["elected"] == ["An"]
    assert result["tie"] is True


def test_election_without_choose_elects_everyone_who_meets_the_rule() -> None:
    spec = make_spec("e4", "Bầu", "secret", [], None, candidates=["An", "Bình"])
    result = tally(spec, [{"An": "for", "Bình": "for"}] * 16, total=30, present=30)
    assert result["elected"] == ["An", "Bình"]
    assert result["tie"] is False


def test_election_below_the_rule_elects_nobody() -> None:
    result = tally(election(choose=1), [{"An": "for"}] * 15, total=30, present=30)
    assert result["elected"] == []
    assert result["tie"] is False


# -- confidence assessment (NQ96: tín nhiệm cao / tín nhiệm / tín nhiệm thấp) ---------


def confidence() -> PollSpec:
    return make_spec(
        "c1",
        "Lấy phiếu tín nhiệm",
        "secret",
        ["high", "trust", "low"],
        None,
        candidates=["Chủ tịch UBND"],
    )


@pytest.mark.parametrize(
    ("low", "flags"),
    [
        (15, []),
        (16, ["more_than_half_low"]),
        (19, ["more_than_half_low"]),
        (20, ["more_than_half_low", "two_thirds_low"]),
        (30, ["more_than_half_low", "two_thirds_low"]),
    ],
)
def test_confidence_flags_at_exact_boundaries_of_30_nq96(low: int, flags: list[str]) -> None:
    cast = [{"Chủ tịch UBND": "low"}] * low + [{"Chủ tịch UBND": "high"}] * (30 - low)
    result = tally(confidence(), cast, total=30, present=30)
    assert result["flags"] == {"Chủ tịch UBND": flags}


def test_confidence_flags_count_against_all_delegates_not_ballots_nq96() -> None:
    # 16 low of 20 ballots is 80 % of ballots but not more than half of the body of 40.
    cast = [{"Chủ tịch UBND": "low"}] * 16 + [{"Chủ tịch UBND": "trust"}] * 4
    result = tally(confidence(), cast, total=40, present=30)
    assert result["flags"] == {"Chủ tịch UBND": []}
    assert result["counts"] == {
        "Chủ tịch UBND": {"high": 0, "trust": 4, "low": 16, "not_voted": 20}
    }
    assert result["shares"] == {
        "Chủ tịch UBND": {"high": 0.0, "trust": 10.0, "low": 40.0, "not_voted": 50.0}
    }


def test_confidence_left_out_candidate_is_not_counted_nq96() -> None:
    spec = make_spec(
        "c2", "Lấy phiếu tín nhiệm", "secret", ["high", "trust", "low"], None, candidates=["A", "B"]
    )
    assert spec.kind == "confidence"
    assert normalize_ballot(spec, None, {"A": "high"}) == {"A": "high"}
    result = tally(spec, [{"A": "high"}, {"A": "trust", "B": "low"}], total=3, present=3)
    # not_voted is who cast no ballot (SCENARIO.md), the same for A and B.
    assert result["counts"]["A"] == {"high": 1, "trust": 1, "low": 0, "not_voted": 1}
    assert result["counts"]["B"] == {"high": 0, "trust": 0, "low": 1, "not_voted": 1}
    assert result["turnout"] == 2


# -- vote of confidence (NQ96: tín nhiệm / không tín nhiệm) ---------------------------


def test_vote_of_confidence_flags_more_than_half_no_trust_of_all_delegates_nq96() -> None:
    spec = make_spec("v1", "Bỏ phiếu tín nhiệm", "secret", ["trust", "no_trust"], None)
    assert spec.kind == "confidence_vote"
    half = tally(spec, ballots(trust=15, no_trust=15), total=30, present=30)
    assert half["flags"] == []
    assert half["passed"] is None
    over = tally(spec, ballots(trust=10, no_trust=16), total=30, present=30)
    assert over["flags"] == ["more_than_half_no_trust"]
    assert over["counts"] == {"trust": 10, "no_trust": 16, "not_voted": 4}
    assert over["shares"] == {"trust": 33.3, "no_trust": 53.3, "not_voted": 13.3}


def test_vote_of_confidence_per_candidate_nq96() -> None:
    spec = make_spec(
        "v2", "Bỏ phiếu tín nhiệm", "secret", ["trust", "no_trust"], None, candidates=["A", "B"]
    )
    assert spec.kind == "confidence_vote"
    cast = [{"A": "no_trust", "B": "trust"}] * 16 + [{"A": "trust"}] * 4
    result = tally(spec, cast, total=30, present=30)
    assert result["flags"] == {"A": ["more_than_half_no_trust"], "B": []}
    assert result["counts"]["B"] == {"trust": 16, "no_trust": 0, "not_voted": 10}


# -- opinion polls -------------------------------------------------------------------


def test_opinion_poll_counts_free_codes_and_decides_nothing() -> None:
    spec = make_spec("o1", "Chọn ngày họp", "public", ["thu_hai", "thu_ba"], None)
    assert spec.kind == "opinion"
    result = tally(spec, ["thu_hai", "thu_hai", "thu_ba"], total=10, present=8)
    assert result["passed"] is None
    assert result["threshold"] is None
    assert result["counts"] == {"thu_hai": 2, "thu_ba": 1, "not_voted": 7}
    assert result["shares"] == {"thu_hai": 20.0, "thu_ba": 10.0, "not_voted": 70.0}


# -- kind inference --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "candidates", "rule", "kind"),
    [
        (["for", "against", "abstain"], None, "more_than_half_of_total", "motion"),
        (["for", "against"], None, None, "motion"),
        ([], None, None, "motion"),
        (["yes", "no"], None, None, "opinion"),
        (["high", "trust", "low"], ["A"], None, "confidence"),
        (["trust", "no_trust"], ["A"], None, "confidence_vote"),
        (["trust", "no_trust"], None, None, "confidence_vote"),
        (["for", "against", "abstain"], ["A", "B"], None, "election"),
    ],
)
def test_kind_is_inferred_as_scenario_md_says(
    answers: list[str], candidates: list[str] | None, rule: str | None, kind: str
) -> None:
    assert make_spec("p", "Q", "secret", answers, rule, candidates=candidates).kind == kind


# -- refusals (code "invalid") ---------------------------------------------------------


def refused(fn: Any, *args: Any, **kwargs: Any) -> PhsError:
    with pytest.raises(PhsError) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == "invalid"
    assert caught.value.message and caught.value.message_en
    return caught.value


def test_unknown_answer_is_invalid() -> None:
    refused(normalize_ballot, motion(), "yes", None)
    refused(normalize_ballot, election(), None, {"An": "high"})


def test_unknown_candidate_is_invalid() -> None:
    refused(normalize_ballot, election(), None, {"Dũng": "for"})


def test_more_for_than_choose_is_invalid() -> None:
    refused(normalize_ballot, election(choose=2), None, {"An": "for", "Bình": "for", "Chi": "for"})
    assert normalize_ballot(
        election(choose=2), None, {"An": "for", "Bình": "for", "Chi": "against"}
    )


def test_empty_answers_are_invalid() -> None:
    refused(normalize_ballot, election(), None, {})
    refused(normalize_ballot, election(), None, None)
    refused(normalize_ballot, motion(), None, None)
    refused(normalize_ballot, motion(), "for", {"An": "for"})
    refused(make_spec, "o", "Q", "public", [], None, kind="opinion")
    refused(make_spec, "o", "Q", "public", ["for", ""], None)


def test_opinion_with_a_rule_is_invalid() -> None:
    refused(make_spec, "o", "Q", "public", ["yes", "no"], "more_than_half_of_total", kind="opinion")
    # Without a kind, free codes with a rule make a motion, whose codes are then wrong.
    refused(make_spec, "o", "Q", "public", ["yes", "no"], "more_than_half_of_total")


def test_unknown_rule_kind_or_method_is_invalid() -> None:
    refused(make_spec, "p", "Q", "public", ["for"], "two_thirds_of_present")
    refused(make_spec, "p", "Q", "public", ["for"], None, kind="referendum")
    refused(make_spec, "p", "Q", "open", ["for"], None)


def test_malformed_specs_are_invalid() -> None:
    refused(make_spec, "p", "  ", "public", ["for"], None)
    refused(make_spec, "p", "Q", "public", ["for", "for"], None)
    refused(make_spec, "p", "Q", "public", ["against", "abstain"], None, kind="motion")
    refused(make_spec, "p", "Q", "secret", [], None, kind="election")
    refused(make_spec, "p", "Q", "secret", ["for"], None, candidates=["A", "A"])
    refused(make_spec, "p", "Q", "secret", [], None, candidates=["A"], choose=2)
    refused(make_spec, "p", "Q", "secret", [], None, candidates=["A"], choose=0)
    refused(make_spec, "p", "Q", "public", ["for"], None, choose=1)
    refused(
        make_spec, "p", "Q", "secret", ["high", "trust"], None, kind="confidence", candidates=["A"]
    )
    refused(make_spec, "p", "Q", "public", ["for"], None, kind="motion", candidates=["A"])


def test_negative_attendance_is_invalid() -> None:
    refused(tally, motion(), [], total=-1, present=0)

