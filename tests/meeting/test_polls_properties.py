"""Property tests: for any body (1–500), attendance and ballots the arithmetic holds.

Sources (docs/RULES.md): quá nửa / ít nhất hai phần ba tổng số đại biểu — Luật Tổ chức
chính quyền địa phương 2025 (72/2025/QH15) Điều 35 (2015 law 77/2015/QH13 Điều 91 khoản 3);
confidence thresholds — Nghị quyết 96/2023/QH15.

Each property checks the implementation against an independent formula written here
with Fraction, not against the module's own helpers.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.meeting.polls import RULES, make_spec, normalize_ballot, tally

ANSWERS = ("for", "against", "abstain")


def rule_met(rule: str, votes_for: int, base: int) -> bool:
    """The law's wording as exact fractions: quá nửa is > 1/2, ít nhất hai phần ba is ≥ 2/3."""
    if base == 0:
        return False
    ratio = Fraction(votes_for, base)
    if rule == "two_thirds_of_total":
        return ratio >= Fraction(2, 3)
    return ratio > Fraction(1, 2)


@st.composite
def sittings(draw: st.DrawFn) -> tuple[int, int, list[str]]:
    total = draw(st.integers(min_value=1, max_value=500))
    present = draw(st.integers(min_value=0, max_value=total))
    turnout = draw(st.integers(min_value=0, max_value=present))
    cast = draw(st.lists(st.sampled_from(ANSWERS), min_size=turnout, max_size=turnout))
    return total, present, cast


@settings(max_examples=300, deadline=None)
@given(sittings(), st.sampled_from(RULES))
def test_motion_passes_exactly_when_the_rule_says(
    sitting: tuple[int, int, list[str]], rule: str
) -> None:
    """Luật TCCQĐP 2025 Điều 35 (2015: Điều 91 k.3): passed is exactly the rule on its base."""
    total, present, cast = sitting
    spec = make_spec("p", "Q", "secret", list(ANSWERS), rule)
    result = tally(spec, cast, total=total, present=present)
    base = {"total": total, "present": present, "cast": len(cast)}[result["base_kind"]]
    assert result["base"] == base
    assert result["passed"] is rule_met(rule, cast.count("for"), base)
    # threshold is the smallest count that meets the rule
    assert rule_met(rule, result["threshold"], base) or base == 0
    assert not rule_met(rule, result["threshold"] - 1, base)
    counts = result["counts"]
    assert all(v >= 0 for v in counts.values())
    assert all(v >= 0 for v in result["shares"].values())
    assert counts["not_voted"] == total - len(cast)
    if result["base_kind"] == "total":
        assert sum(counts.values()) == total
        assert abs(sum(result["shares"].values()) - 100.0) <= 0.1 * (len(ANSWERS) + 1)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=1, max_value=5000))
def test_share_is_the_exact_percentage_rounded_half_away_from_zero(count: int, base: int) -> None:
    """docs/RULES.md §9: count / base × 100, one decimal, half away from zero, never negative."""
    from appliance.meeting.polls_shares import share

    exact = Fraction(count * 100, base)
    tenths = exact * 10
    rounded = int(tenths) + (1 if tenths - int(tenths) >= Fraction(1, 2) else 0)
    assert share(count, base) == rounded / 10


@st.composite
def elections(draw: st.DrawFn) -> tuple[int, int, list[str], int | None, list[dict[str, str]]]:
    total = draw(st.integers(min_value=1, max_value=500))
    names = [f"c{i}" for i in range(draw(st.integers(min_value=1, max_value=6)))]
    choose = draw(st.none() | st.integers(min_value=1, max_value=len(names)))
    present = draw(st.integers(min_value=0, max_value=total))
    turnout = draw(st.integers(min_value=0, max_value=present))
    ballots = []
    for _ in range(turnout):
        ballot = draw(st.dictionaries(st.sampled_from(names), st.sampled_from(ANSWERS), min_size=1))
        fors = [n for n, code in ballot.items() if code == "for"]
        for extra in fors[choose or len(names) :]:
            ballot[extra] = "against"
        ballots.append(ballot)
    return total, present, names, choose, ballots


@settings(max_examples=200, deadline=None)
@given(elections(), st.sampled_from(RULES))
def test_election_elects_no_more_than_choose_and_only_those_who_meet_the_rule(
    election: tuple[int, int, list[str], int | None, list[dict[str, str]]], rule: str
) -> None:
    """Elected by the rule of Luật TCCQĐP 2025 Điều 35 (quá nửa tổng số), at most K, most votes first."""
    total, present, names, choose, ballots = election
    spec = make_spec("e", "Bầu", "secret", [], rule, candidates=names, choose=choose)
    stored = [normalize_ballot(spec, None, b) for b in ballots]
    result = tally(spec, stored, total=total, present=present)
    elected: list[str] = result["elected"]
    base = result["base"]
    votes = {n: sum(1 for b in ballots if b.get(n) == "for") for n in names}
    assert len(elected) <= (choose or len(names))
    assert all(rule_met(rule, votes[n], base) for n in elected)
    assert [votes[n] for n in elected] == sorted((votes[n] for n in elected), reverse=True)
    qualified = [n for n in names if rule_met(rule, votes[n], base)]
    if not result["tie"]:
        assert len(elected) == min(len(qualified), choose or len(names))
    for name in names:
        per: dict[str, Any] = result["counts"][name]
        assert per["for"] == votes[name]
        assert all(v >= 0 for v in per.values())
        assert per["for"] + per["against"] + per["abstain"] == len(ballots)
        if result["base_kind"] == "total":
            assert sum(per.values()) == total
            assert abs(sum(result["shares"][name].values()) - 100.0) <= 0.1 * 4


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=500), st.data())
def test_confidence_flags_follow_nq96_against_all_delegates(
    total: int, data: st.DataObject
) -> None:
    """Nghị quyết 96/2023/QH15: "more than half" and "at least two thirds" low, of all delegates."""
    turnout = data.draw(st.integers(min_value=0, max_value=total))
    cast = data.draw(
        st.lists(
            st.sampled_from(["high", "trust", "low", None]), min_size=turnout, max_size=turnout
        )
    )
    spec = make_spec("c", "Tín nhiệm", "secret", ["high", "trust", "low"], None, candidates=["A"])
    ballots = [{"A": code} if code else {} for code in cast]
    stored = [b for b in ballots if b]  # a ballot that rates nobody is refused upstream
    result = tally(spec, stored, total=total, present=total)
    low = cast.count("low")
    expected = []
    if Fraction(low, total) > Fraction(1, 2):
        expected.append("more_than_half_low")
    if Fraction(low, total) >= Fraction(2, 3):
        expected.append("two_thirds_low")
    assert result["flags"] == {"A": expected}
    per = result["counts"]["A"]
    assert sum(per.values()) == total
    assert abs(sum(result["shares"]["A"].values()) - 100.0) <= 0.1 * 4
