"""Quorum, attendance, the floor and poll refusals, judged by the pure rules."""

from __future__ import annotations

import pytest

from appliance.core.errors import PhsError
from appliance.meeting.decide import queue_order
from appliance.meeting.model import quorum_needed
from appliance.meeting.views import section, view_for
from tests.meeting.conftest import SECRETARY, Sitting


def refused(s: Sitting, actor: str, command: str, **args: object) -> str:
    with pytest.raises(PhsError) as info:
        s.run(actor, command, **args)
    return info.value.code


@pytest.mark.parametrize(("total", "needed"), [(30, 20), (31, 21), (20, 14), (500, 334), (1, 1), (3, 2)])
def test_quorum_is_two_thirds_of_all_delegates_rounded_up(total: int, needed: int) -> None:
    """Luật TCCQĐP 2025 (72/2025/QH15) Điều 34 (clause unverified, docs/RULES.md §3): at least two thirds of all delegates."""
    assert quorum_needed(total) == needed


def test_poll_needs_quorum_20_of_30(sitting30: Sitting) -> None:
    """Luật TCCQĐP 2025 Điều 34 (docs/RULES.md §3): no vote below two thirds of all delegates present."""
    sitting30.open_with(19)
    assert refused(sitting30, "d1", "open_poll", poll_id="p", question="Q?") == "no_quorum"
    sitting30.run("d20", "check_in")
    events = sitting30.run("d1", "open_poll", poll_id="p", question="Q?")
    assert [e.type for e in events] == ["poll_opened"]
    att = section(sitting30.state, "attendance", SECRETARY)
    assert (att["present"], att["total"], att["needed"], att["quorum"]) == (20, 30, 20, True)


def test_guest_and_unchecked_delegate_cannot_vote(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d1", "open_poll", poll_id="p", question="Q?")
    assert refused(sitting30, "g1", "vote", poll_id="p", answer="for") == "forbidden"
    assert refused(sitting30, "d26", "vote", poll_id="p", answer="for") == "not_present"
    sitting30.run("d3", "vote", poll_id="p", answer="for")
    assert refused(sitting30, "d3", "vote", poll_id="p", answer="against") == "already_voted"
    assert refused(sitting30, "d4", "vote", poll_id="p", answer="maybe") == "invalid"
    assert refused(sitting30, "d4", "vote", poll_id="nope", answer="for") == "not_found"


def test_checked_out_delegate_is_refused_until_back(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d1", "open_poll", poll_id="p", question="Q?")
    sitting30.run("d5", "check_out")
    assert refused(sitting30, "d5", "vote", poll_id="p", answer="for") == "not_present"
    sitting30.run("d5", "check_in")
    sitting30.run("d5", "vote", poll_id="p", answer="for")
    assert sitting30.state.polls["p"].ballots == {"d5": "for"}


def test_close_fixes_result_against_total(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d1", "open_poll", poll_id="p", question="Q?", rule="more_than_half_of_total")
    for i in range(1, 17):
        sitting30.run(f"d{i}", "vote", poll_id="p", answer="for")
    for i in range(17, 21):
        sitting30.run(f"d{i}", "vote", poll_id="p", answer="against")
    sitting30.run("d21", "vote", poll_id="p", answer="abstain")
    sitting30.run("d1", "close_poll", poll_id="p")
    result = sitting30.state.polls["p"].result
    assert result is not None
    assert result["counts"] == {"for": 16, "against": 4, "abstain": 1, "not_voted": 9}
    assert result["passed"] is True
    assert refused(sitting30, "d22", "vote", poll_id="p", answer="for") == "poll_closed"
    assert refused(sitting30, "d1", "close_poll", poll_id="p") == "poll_closed"


def test_rebuttals_queue_ahead_in_their_own_order(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d5", "request_floor")
    sitting30.run("d6", "request_floor", kind="rebuttal")
    sitting30.run("d7", "request_floor")
    sitting30.run("d8", "request_floor", kind="rebuttal")
    assert queue_order(sitting30.state) == ["d6", "d8", "d5", "d7"]
    sitting30.run("d5", "request_floor")  # a double tap yields one entry
    assert queue_order(sitting30.state) == ["d6", "d8", "d5", "d7"]
    sitting30.run("d7", "withdraw_floor")
    sitting30.run("d1", "grant_floor", to="next")
    floor = section(sitting30.state, "floor", SECRETARY)
    assert [s["participant_id"] for s in floor["speaking"]] == ["d6"]
    assert [q["participant_id"] for q in floor["queue"]] == ["d8", "d5"]


def test_speech_duration_is_recorded_from_the_monotonic_clock(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d5", "request_floor")
    sitting30.run("d1", "grant_floor", to="next")
    sitting30.clock.advance(95)
    sitting30.run("d1", "end_floor", to="all")
    speech = sitting30.state.floor.speeches[-1]
    assert (speech.participant_id, speech.seconds) == ("d5", 95.0)


def test_grant_next_on_empty_queue_is_not_found(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    assert refused(sitting30, "d1", "grant_floor", to="next") == "not_found"
    assert refused(sitting30, "d3", "grant_floor", to="next") == "forbidden"


def test_secret_poll_result_hides_per_delegate(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d1", "open_poll", poll_id="s", question="Bầu?", method="secret")
    events = sitting30.run("d3", "vote", poll_id="s", answer="against")
    assert events[0].choice is None  # the journal learns that d3 voted, never what
    view = view_for(sitting30.state, SECRETARY)
    assert view["polls"][0]["voted"] == 1
    assert sitting30.state.polls["s"].ballots == {}
