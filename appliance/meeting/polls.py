"""Vote arithmetic of a sitting: what a poll is, what a valid ballot is, what the result is.

Pure functions; the rules and their legal sources are in ``polls_rules`` and
``docs/RULES.md``. The Result shape is the one in ``docs/CONTRACTS.md``: every screen,
the API and the minutes show this dict unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from appliance.meeting.polls_candidates import (
    NOT_VOTED,
    tally_confidence,
    tally_confidence_vote,
    tally_election,
)
from appliance.meeting.polls_rules import RULES, base_of, meets, no_confidence_flags, threshold
from appliance.meeting.polls_shares import shares_of
from appliance.meeting.polls_spec import (
    DEFAULT_RULE,
    KINDS,
    Ballot,
    PollSpec,
    invalid,
    make_spec,
    normalize_ballot,
    renormalize,
)

__all__ = ["KINDS", "RULES", "Ballot", "PollSpec", "make_spec", "normalize_ballot", "tally"]


def tally(
    spec: PollSpec,
    ballots: Iterable[Ballot],
    *,
    total: int,
    present: int,
    voters: Mapping[str, Ballot] | None = None,
) -> dict[str, Any]:
    """The Result of a closed poll (docs/CONTRACTS.md); ``voters`` only for public polls."""
    if isinstance(total, bool) or isinstance(present, bool) or total < 0 or present < 0:
        raise invalid("Số đại biểu không hợp lệ.", "total and present must be >= 0.")
    if voters is not None and spec.method != "public":
        raise ValueError("per-delegate answers of a secret poll must never be tallied")
    cast_ballots = [renormalize(spec, b) for b in ballots]
    turnout = len(cast_ballots)
    result: dict[str, Any]
    if spec.kind in ("motion", "opinion") or (
        spec.kind == "confidence_vote" and not spec.candidates
    ):
        result = _tally_single(spec, [str(b) for b in cast_ballots], total=total, present=present)
    else:
        result = _tally_candidates(
            spec,
            [dict(b) for b in cast_ballots if isinstance(b, dict)],
            total=total,
            present=present,
        )
    result["turnout"] = turnout
    ordered = {
        key: result[key]
        for key in ("base", "base_kind", "threshold", "turnout", "counts", "shares", "passed")
    }
    ordered.update((k, v) for k, v in result.items() if k not in ordered)
    if voters is not None:
        ordered["per_delegate"] = [
            {"participant_id": pid, "answer": renormalize(spec, voters[pid])}
            for pid in sorted(voters)
        ]
    return ordered


def _tally_single(
    spec: PollSpec, ballots: list[str], *, total: int, present: int
) -> dict[str, Any]:
    """Motions, opinion polls and a single vote of confidence: one answer per ballot."""
    counts = dict.fromkeys(spec.answers, 0)
    for code in ballots:
        counts[code] += 1
    counts[NOT_VOTED] = max(0, total - len(ballots))
    result: dict[str, Any] = {"counts": counts}
    if spec.kind == "motion" and spec.rule is not None:
        base, base_kind = base_of(spec.rule, total=total, present=present, cast=len(ballots))
        result.update(base=base, base_kind=base_kind, threshold=threshold(spec.rule, base))
        result["passed"] = meets(spec.rule, counts["for"], base)
    else:
        # Opinion polls decide nothing; a vote of confidence is measured against all delegates.
        result.update(base=total, base_kind="total", passed=None)
        result["threshold"] = (
            threshold(DEFAULT_RULE, total) if spec.kind == "confidence_vote" else None
        )
        if spec.kind == "confidence_vote":
            result["flags"] = no_confidence_flags(counts["no_trust"], total)
    keys = (*spec.answers, NOT_VOTED) if result["base_kind"] == "total" else spec.answers
    result["shares"] = shares_of(counts, result["base"], keys=keys)
    return result


def _tally_candidates(
    spec: PollSpec, ballots: list[dict[str, str]], *, total: int, present: int
) -> dict[str, Any]:
    """Elections, confidence assessments and per-candidate votes of confidence."""
    if spec.kind == "election":
        rule = spec.rule or DEFAULT_RULE
        base, base_kind = base_of(rule, total=total, present=present, cast=len(ballots))
        body = tally_election(
            spec.candidates,
            spec.answers,
            ballots,
            rule=rule,
            base=base,
            with_not_voted=base_kind == "total",
            total=total,
            choose=spec.choose,
        )
        return {
            "base": base,
            "base_kind": base_kind,
            "threshold": threshold(rule, base),
            "passed": None,
            **body,
        }
    if spec.kind == "confidence":
        body = tally_confidence(spec.candidates, spec.answers, ballots, total=total)
    else:
        body = tally_confidence_vote(spec.candidates, spec.answers, ballots, total=total)
    # NQ 96/2023/QH15 thresholds count against all delegates; the first flag's bar is shown.
    return {
        "base": total,
        "base_kind": "total",
        "threshold": threshold(DEFAULT_RULE, total),
        "passed": None,
        **body,
    }
