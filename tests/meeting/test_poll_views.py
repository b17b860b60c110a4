"""What a ballot and a close send to every screen: small sections, whatever the sitting's length."""

from __future__ import annotations

from appliance.meeting.views import poll_view, section
from tests.meeting.conftest import SECRETARY, Sitting


def test_per_delegate_lists_stay_out_of_the_view_and_in_the_record(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    for poll_id in ("p1", "p2"):
        sitting30.run("d1", "open_poll", poll_id=poll_id, question="Tán thành?")
        for i in range(1, 21):
            sitting30.run(f"d{i}", "vote", poll_id=poll_id, answer="for")
        sitting30.run("d1", "close_poll", poll_id=poll_id)
    polls = {p["id"]: p for p in section(sitting30.state, "polls", SECRETARY)}
    assert "per_delegate" not in polls["p1"]["result"] and "per_delegate" not in polls["p2"]["result"]
    # Everything else of the earlier result is there, and the record itself keeps the list.
    assert polls["p1"]["result"]["counts"] == {"for": 20, "against": 0, "abstain": 0, "not_voted": 10}
    assert len(sitting30.state.polls["p1"].result["per_delegate"]) == 20
    assert len(poll_view(sitting30.state, sitting30.state.polls["p2"], SECRETARY)["result"]["per_delegate"]) == 20


def test_a_ballot_changes_only_the_progress_of_open_polls(sitting30: Sitting) -> None:
    sitting30.open_with(25)
    sitting30.run("d1", "open_poll", poll_id="p", question="Tán thành?", show_live=True)
    sitting30.run("d3", "vote", poll_id="p", answer="against")
    progress = section(sitting30.state, "poll_progress", SECRETARY)
    assert list(progress) == ["p"]
    assert progress["p"]["voted"] == 1
    assert progress["p"]["live"]["counts"] == {"for": 0, "against": 1, "abstain": 0, "not_voted": 29}
    sitting30.run("d1", "close_poll", poll_id="p")
    assert section(sitting30.state, "poll_progress", SECRETARY) == {}
