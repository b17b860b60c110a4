"""The voting acceptance scenarios agree with the poll arithmetic.

A small in-memory referee plays tests/scenarios/voting/*.yaml through make_spec,
normalize_ballot and tally, with the refusal order of SCENARIO.md, so a wrong count in
a file is caught here in milliseconds instead of by the runner against a real server.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.core.errors import PhsError
from appliance.meeting.polls import make_spec, normalize_ballot, tally

VOTING = Path(__file__).resolve().parents[1] / "scenarios" / "voting"
FILES = sorted(VOTING.glob("*.yaml"))
POLL_KEYS = ("counts", "shares", "passed", "elected", "flags", "turnout", "annulled")


def people(label: str, delegates: int) -> list[str]:
    """Participants a step's `as` names: d<N> for delegates, g<N> for guests."""
    label = label.strip()
    if label == "chair":
        return ["d1"]
    if label == "vice_chair":
        return ["d2"]
    if label in ("secretary", "technician", "display", "stranger"):
        return [label]
    match = re.fullmatch(r"(delegates?|guest)\s+(.+)", label)
    assert match, label
    prefix = "g" if match.group(1) == "guest" else "d"
    found: list[str] = []
    for part in match.group(2).split(","):
        low, _, high = part.strip().partition("-")
        found += [f"{prefix}{n}" for n in range(int(low), int(high or low) + 1)]
    return found


class Referee:
    """Plays a scenario's attendance and voting steps against the pure poll functions."""

    def __init__(self, delegates: int) -> None:
        self.total = delegates
        self.present: set[str] = set()
        self.polls: dict[str, dict[str, Any]] = {}
        self.clock = 0.0  # seconds slept by the scenario, for polls with a countdown

    def close(self, poll: dict[str, Any]) -> None:
        if not poll["open"]:
            raise PhsError("poll_closed")
        poll["open"] = False
        poll["result"] = tally(
            poll["spec"],
            list(poll["voters"].values()),
            total=self.total,
            present=len(self.present),
            voters=poll["voters"] if poll["spec"].method == "public" else None,
        )

    def annul(self, who: str, step: dict[str, Any]) -> None:
        """Annul (closing it if open) with a reason; the record stays, flagged; maybe repeat."""
        if who != "d1":
            raise PhsError("forbidden")
        poll = self.polls[step["poll"]]
        if poll["annulled"]:
            raise PhsError("conflict")
        if poll["open"]:
            self.close(poll)
        poll["annulled"] = True
        poll["result"] = {**poll["result"], "annulled": True}
        if step.get("repeat_as"):
            self.polls[step["repeat_as"]] = {
                **self.fresh(poll["spec"]),
                "correction": poll["correction"],
            }

    @staticmethod
    def fresh(spec: Any, duration: float | None = None, now: float = 0.0) -> dict[str, Any]:
        closes_at = now + duration if duration else None
        return {
            "spec": spec,
            "open": True,
            "voters": {},
            "result": None,
            "annulled": False,
            "correction": False,
            "closes_at": closes_at,
        }

    def act(self, who: str, do: str, step: dict[str, Any]) -> None:
        if do in ("open_sitting", "close_sitting", "start_item"):
            return
        if do == "check_in":
            self.present.add(who)
        elif do == "check_out":
            self.present.discard(who)
        elif do == "open_poll":
            self.open_poll(step)
        elif do == "vote":
            self.vote(who, step)
        elif do == "close_poll":
            if who != "d1":
                raise PhsError("forbidden")
            self.close(self.polls[step["poll"]])
        elif do == "annul_poll":
            self.annul(who, step)
        elif do == "sleep":
            self.clock += float(step["s"])
            for poll in self.polls.values():
                if (
                    poll["open"]
                    and poll["closes_at"] is not None
                    and poll["closes_at"] <= self.clock
                ):
                    self.close(poll)
        else:
            raise AssertionError(f"the referee does not play {do}")

    def open_poll(self, step: dict[str, Any]) -> None:
        if 3 * len(self.present) < 2 * self.total:
            raise PhsError("no_quorum")
        spec = make_spec(
            step["poll"],
            step.get("question", "?"),
            step.get("method", "public"),
            list(step.get("answers") or []),
            step.get("rule"),
            kind=step.get("kind"),
            candidates=step.get("candidates"),
            choose=step.get("choose"),
        )
        if step.get("allow_correction") and spec.method == "secret":
            raise PhsError("invalid")  # correcting a secret ballot would link it to its voter
        poll = self.fresh(spec, step.get("duration_s"), self.clock)
        poll["correction"] = bool(step.get("allow_correction"))
        self.polls[step["poll"]] = poll

    def vote(self, who: str, step: dict[str, Any]) -> None:
        if not who.startswith("d"):
            raise PhsError("forbidden")
        poll = self.polls[step["poll"]]
        if not poll["open"]:
            raise PhsError("poll_closed")
        if who not in self.present:
            raise PhsError("not_present")
        if who in poll["voters"] and not poll["correction"]:
            raise PhsError("already_voted")
        poll["voters"][who] = normalize_ballot(
            poll["spec"], step.get("answer"), step.get("answers")
        )

    def view(self, expect: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if "present" in expect:
            found["present"] = len(self.present)
        if "quorum" in expect:
            found["quorum"] = 3 * len(self.present) >= 2 * self.total
        if "poll" in expect:
            poll = self.polls[expect["poll"]]
            result = poll["result"] or {"turnout": len(poll["voters"])}
            result = {"annulled": poll["annulled"], **result}
            found.update({k: result.get(k) for k in POLL_KEYS if k in expect})
        return found


def subset(expected: Any, found: Any) -> bool:
    """SCENARIO.md matching: only the keys named, at every level; lists in order."""
    if isinstance(expected, dict):
        return isinstance(found, dict) and all(
            k in found and subset(v, found[k]) for k, v in expected.items()
        )
    return bool(expected == found)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_voting_scenario_expectations_hold(path: Path) -> None:
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    referee = Referee(int(scenario["setup"]["delegates"]))
    for n, step in enumerate(scenario["steps"], start=1):
        if "do" in step:
            for who in people(step.get("as", "chair"), referee.total):
                outcomes: list[str | None] = []
                for _ in range(int(step.get("repeat", 1))):
                    try:
                        referee.act(who, step["do"], step)
                        outcomes.append(None)
                    except PhsError as refusal:
                        outcomes.append(refusal.code)
                wanted = step.get("expect_error")
                if wanted and "repeat" not in step:
                    assert outcomes == [wanted], f"step {n} ({who}): {outcomes}"
                elif wanted:
                    assert outcomes.count(None) >= 1, f"step {n} ({who}): {outcomes}"
                    assert set(outcomes) <= {None, wanted}, f"step {n} ({who}): {outcomes}"
                else:
                    assert outcomes == [None] * len(outcomes), f"step {n} ({who}): {outcomes}"
        if "expect" in step:
            expect = {k: v for k, v in step["expect"].items() if k != "journal_verifies"}
            found = referee.view(expect)
            shown = {k: v for k, v in expect.items() if k != "poll"}
            assert subset(shown, found), f"step {n}: expected {shown}, found {found}"


def test_every_required_voting_scenario_is_present() -> None:
    names = {p.stem for p in FILES}
    assert {
        "example",
        "rule-more-than-half-of-total",
        "rule-two-thirds-of-total",
        "rule-more-than-half-of-present",
        "rule-more-than-half-of-cast",
        "exactly-half-for",
        "two-thirds-boundary",
        "all-abstain",
        "no-one-voted",
        "guest-cannot-vote",
        "second-ballot",
        "ballot-after-close",
        "not-checked-in",
        "no-quorum",
        "check-out-during-poll",
        "concurrent-double-tap",
        "election-choose",
        "confidence-assessment",
        "secret-motion",
    } <= names
