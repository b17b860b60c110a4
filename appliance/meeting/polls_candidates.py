"""Tallies of candidate polls: elections, confidence assessments, votes of confidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from appliance.meeting.polls_rules import (
    low_confidence_flags,
    meets,
    no_confidence_flags,
)
from appliance.meeting.polls_shares import shares_of

NOT_VOTED = "not_voted"


def candidate_counts(
    candidates: Sequence[str],
    answers: Sequence[str],
    ballots: Sequence[Mapping[str, str]],
    *,
    total: int,
    left_out: str | None,
) -> dict[str, dict[str, int]]:
    """Per candidate counts; ``left_out`` is the answer a missing candidate gets, or None to skip it."""
    counts: dict[str, dict[str, int]] = {c: dict.fromkeys(answers, 0) for c in candidates}
    for ballot in ballots:
        for candidate in candidates:
            code = ballot.get(candidate, left_out)
            if code is not None:
                counts[candidate][code] += 1
    # SCENARIO.md: not_voted is the delegates who cast no ballot, the same for every
    # candidate; a confidence ballot that skips someone is cast, just not counted for them.
    for candidate in candidates:
        counts[candidate][NOT_VOTED] = max(0, total - len(ballots))
    return counts


def candidate_shares(
    counts: Mapping[str, Mapping[str, int]], base: int, keys: tuple[str, ...]
) -> dict[str, dict[str, float]]:
    """Shares per candidate against the poll's base."""
    return {name: shares_of(c, base, keys=keys) for name, c in counts.items()}


def elect(
    candidates: Sequence[str],
    votes_for: Mapping[str, int],
    *,
    rule: str,
    base: int,
    choose: int | None,
) -> tuple[list[str], bool]:
    """Those whose ``for`` meets the rule, most first; a tie at the last place elects nobody for it."""
    order = {name: i for i, name in enumerate(candidates)}
    qualified = sorted(
        (c for c in candidates if meets(rule, votes_for[c], base)),
        key=lambda c: (-votes_for[c], order[c]),
    )
    if choose is None or len(qualified) <= choose:
        return qualified, False
    last = votes_for[qualified[choose - 1]]
    if votes_for[qualified[choose]] != last:
        return qualified[:choose], False
    return [c for c in qualified[:choose] if votes_for[c] > last], True


def tally_election(
    candidates: Sequence[str],
    answers: Sequence[str],
    ballots: Sequence[Mapping[str, str]],
    *,
    rule: str,
    base: int,
    with_not_voted: bool,
    total: int,
    choose: int | None,
) -> dict[str, Any]:
    """Counts, shares, elected and tie of an election (bầu cử)."""
    counts = candidate_counts(candidates, answers, ballots, total=total, left_out="abstain")
    keys = (*answers, NOT_VOTED) if with_not_voted else tuple(answers)
    elected, tie = elect(
        candidates,
        {c: counts[c]["for"] for c in candidates},
        rule=rule,
        base=base,
        choose=choose,
    )
    return {
        "counts": counts,
        "shares": candidate_shares(counts, base, keys),
        "elected": elected,
        "tie": tie,
    }


def tally_confidence(
    candidates: Sequence[str],
    answers: Sequence[str],
    ballots: Sequence[Mapping[str, str]],
    *,
    total: int,
) -> dict[str, Any]:
    """Counts, shares and NQ 96/2023/QH15 flags of a confidence assessment (lấy phiếu tín nhiệm)."""
    counts = candidate_counts(candidates, answers, ballots, total=total, left_out=None)
    return {
        "counts": counts,
        "shares": candidate_shares(counts, total, (*answers, NOT_VOTED)),
        "flags": {c: low_confidence_flags(counts[c]["low"], total) for c in candidates},
    }


def tally_confidence_vote(
    candidates: Sequence[str],
    answers: Sequence[str],
    ballots: Sequence[Mapping[str, str]],
    *,
    total: int,
) -> dict[str, Any]:
    """Counts, shares and flags of a vote of confidence (bỏ phiếu tín nhiệm) per candidate."""
    counts = candidate_counts(candidates, answers, ballots, total=total, left_out=None)
    return {
        "counts": counts,
        "shares": candidate_shares(counts, total, (*answers, NOT_VOTED)),
        "flags": {c: no_confidence_flags(counts[c]["no_trust"], total) for c in candidates},
    }
