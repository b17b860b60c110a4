"""The floor rules: lists per agenda item, moving requests, the chair's own voice, time
allowances and extensions, and the time spoken to the second on a fixed clock."""

from __future__ import annotations

import pytest

from appliance.core.errors import PhsError
from appliance.meeting.floor import queue_order
from appliance.meeting.views import section
from tests.meeting.conftest import SECRETARY, Sitting


def floor(s: Sitting) -> dict:  # type: ignore[type-arg]
    return section(s.state, "floor", SECRETARY)  # type: ignore[no-any-return]


def speaking(s: Sitting) -> list[str]:
    return [x["participant_id"] for x in floor(s)["speaking"]]


def refused(s: Sitting, who: str, command: str, **args: object) -> str:
    with pytest.raises(PhsError) as err:
        s.run(who, command, **args)
    return err.value.code


@pytest.fixture
def hall() -> Sitting:
    s = Sitting(12)
    s.run(s.actor("sec"), "add_agenda_item", title="Mục 2", id="i2")
    s.open_with(12)
    s.run("d1", "start_item", item=1)
    return s


def test_requests_belong_to_their_agenda_item(hall: Sitting) -> None:
    hall.run("d3", "request_floor")
    hall.run("d4", "request_floor")
    hall.run("d1", "start_item", item=2)
    assert queue_order(hall.state) == []
    hall.run("d5", "request_floor")
    hall.run("d3", "request_floor")  # the same delegate may ask again under another item
    assert queue_order(hall.state) == ["d5", "d3"]
    assert floor(hall)["lists"] == {"1": ["d3", "d4"]}
    hall.run("d1", "start_item", item=1)
    assert queue_order(hall.state) == ["d3", "d4"]
    hall.run("d1", "grant_floor", to="next")
    assert speaking(hall) == ["d3"]
    assert floor(hall)["lists"] == {"2": ["d5", "d3"]}  # granting under item 1 leaves item 2's list


def test_the_chair_moves_a_request_within_its_kind(hall: Sitting) -> None:
    for pid in ("d3", "d4", "d5", "d6"):
        hall.run(pid, "request_floor")
    hall.run("d7", "request_floor", kind="rebuttal")
    hall.run("d1", "move_request", participant_id="d5", direction="up")
    assert queue_order(hall.state) == ["d7", "d3", "d5", "d4", "d6"]
    hall.run("d1", "move_request", participant_id="d5", direction="up")
    assert queue_order(hall.state) == ["d7", "d5", "d3", "d4", "d6"]
    assert hall.run("d1", "move_request", participant_id="d5", direction="up") == []  # first ordinary request
    hall.run("d1", "move_request", participant_id="d3", direction="down")
    hall.run("d1", "move_request", participant_id="d3", direction="down")
    assert queue_order(hall.state) == ["d7", "d5", "d4", "d6", "d3"]
    assert refused(hall, "d1", "move_request", participant_id="d9", direction="up") == "not_found"
    assert refused(hall, "d1", "move_request", participant_id="d3", direction="sideways") == "invalid"
    assert refused(hall, "d4", "move_request", participant_id="d3", direction="up") == "forbidden"


def test_the_chair_and_vice_chair_speak_without_asking(hall: Sitting) -> None:
    hall.run("d4", "request_floor")
    hall.run("d1", "grant_floor", to="d4")
    hall.run("d1", "grant_floor", to="self")
    hall.run("d2", "grant_floor", to="d2")
    assert speaking(hall) == ["d4", "d1", "d2"]  # presiding microphones are not counted
    assert floor(hall)["speaking"][1]["limit_s"] is None  # nor timed
    hall.run("d1", "end_floor", to="all")  # "all off"
    assert speaking(hall) == [] and floor(hall)["mics_open"] == []


def test_allowances_by_kind_body_and_item(hall: Sitting) -> None:
    hall.run("d1", "set_speech_limits", limits={"speak": 300, "rebuttal": 120})
    hall.run("d1", "set_speech_limits", item=2, limits={"speak": 600})
    hall.run("d3", "request_floor")
    hall.run("d1", "grant_floor", to="next")
    hall.run("d4", "request_floor", kind="rebuttal")
    hall.run("d1", "grant_floor", to="next")
    hall.run("d1", "grant_floor", to="d5", kind="report")
    limits = {x["participant_id"]: x["limit_s"] for x in floor(hall)["speaking"]}
    assert limits == {"d5": 900.0}  # one delegate microphone in request mode: the newest grant
    assert [s.limit_s for s in hall.state.floor.speeches] == [300.0, 120.0]
    hall.run("d1", "start_item", item=2)
    hall.run("d1", "grant_floor", to="d6")
    assert floor(hall)["speaking"][-1]["limit_s"] == 600.0
    assert floor(hall)["limits"]["speak"] == 600.0 and floor(hall)["warn_s"] == 30.0
    assert refused(hall, "d1", "set_speech_limits", limits={"song": 5}) == "invalid"
    assert refused(hall, "d1", "set_speech_limits", item=9, limits={}) == "not_found"


def test_time_spoken_is_exact_for_early_end_removal_and_extension(hall: Sitting) -> None:
    hall.run("d1", "set_speech_limits", limits={"speak": 420})
    # Early end: the speaker finishes after 95 s of 420.
    hall.run("d3", "request_floor")
    hall.run("d1", "grant_floor", to="next")
    hall.clock.advance(95)
    hall.run("d3", "stop_speaking")
    # Removal: the chair ends a speech after 61 s; then a speaker who leaves the hall.
    hall.run("d1", "grant_floor", to="d4")
    hall.clock.advance(61)
    hall.run("d1", "end_floor", to="d4")
    hall.run("d1", "grant_floor", to="d5")
    hall.clock.advance(12)
    hall.run("d5", "check_out")
    # Extension: 420 s, one minute more at 400 s, the timer's end at 480 s.
    hall.run("d1", "grant_floor", to="d6")
    hall.clock.advance(400)
    hall.run("d1", "extend_floor", to="d6", seconds=60)
    assert floor(hall)["speaking"][0]["limit_s"] == 480.0
    hall.clock.advance(79)
    assert hall.run("d1", "end_floor", to="d6", if_over=True) == []  # the timer that fired at 420 s
    hall.clock.advance(1)
    hall.run("d1", "end_floor", to="d6", if_over=True)
    spoken = [(s.participant_id, s.seconds, s.limit_s) for s in hall.state.floor.speeches]
    assert spoken == [("d3", 95.0, 420.0), ("d4", 61.0, 420.0), ("d5", 12.0, 420.0), ("d6", 480.0, 480.0)]
    assert refused(hall, "d1", "extend_floor", to="d6", seconds=30) == "not_found"


def test_open_mode_delegates_switch_on_and_queue_beyond_max_open(hall: Sitting) -> None:
    hall.run("d1", "set_mic_mode", mode="open", max_open=2)
    for pid in ("d3", "d4", "d5", "d6"):
        hall.run(pid, "request_floor")
    assert speaking(hall) == ["d3", "d4"] and queue_order(hall.state) == ["d5", "d6"]
    hall.run("d3", "unit_press")  # the unit's button switches the speaker off
    assert speaking(hall) == ["d4", "d5"] and queue_order(hall.state) == ["d6"]
    hall.run("d6", "unit_press")  # and cancels a waiting request
    assert queue_order(hall.state) == []
    hall.run("d1", "set_mic_mode", mode="chair_only")
    assert speaking(hall) == [] and floor(hall)["max_open"] == 2
    assert refused(hall, "d1", "grant_floor", to="d7") == "conflict"
    hall.run("d7", "request_floor")
    assert queue_order(hall.state) == ["d7"]
    hall.run("d1", "set_mic_mode", mode="open", max_open=1)
    assert speaking(hall) == ["d7"]  # a free microphone goes to the first who waits
    assert refused(hall, "d1", "set_mic_mode", mode="open", max_open=26) == "invalid"
    assert refused(hall, "d3", "set_mic_mode", mode="open") == "forbidden"
