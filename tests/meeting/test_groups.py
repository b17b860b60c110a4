"""Discussion groups (phân nhóm hội ý thảo luận), judged by the pure rules."""

from __future__ import annotations

import pytest

from appliance.core.errors import PhsError
from appliance.core.events import Event
from appliance.meeting.apply import apply
from appliance.meeting.group_views import groups_section
from appliance.meeting.groups import minutes
from appliance.meeting.model import DocumentMeta, SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import view_for
from tests.meeting.conftest import SECRETARY, SYSTEM, Sitting


def refused(s: Sitting, actor: object, command: str, **args: object) -> str:
    with pytest.raises(PhsError) as info:
        s.run(actor, command, **args)  # type: ignore[arg-type]
    return info.value.code


def groups_of(s: Sitting, pid: str) -> list[dict[str, object]]:
    return groups_section(s.state, s.actor(pid))["groups"]  # type: ignore[no-any-return]


@pytest.fixture
def teams() -> Sitting:
    """Ten delegates in three teams (seats 1-4, 5-7, 8-10), a guest and a secretary."""
    s = Sitting(10)
    for i, p in enumerate(s.state.delegates(), start=1):
        p.team = "Tổ 1" if i <= 4 else "Tổ 2" if i <= 7 else "Tổ 3"
    return s


def test_groups_from_teams_follow_the_seats_and_the_first_member_convenes(teams: Sitting) -> None:
    events = teams.run("d1", "create_groups", mode="teams", item=1, duration_s=900)
    assert [(e.id, e.name, e.members, e.convener, e.item) for e in events] == [
        ("g1", "Tổ 1", ("d1", "d2", "d3", "d4"), "d1", 1),
        ("g2", "Tổ 2", ("d5", "d6", "d7"), "d5", 1),
        ("g3", "Tổ 3", ("d8", "d9", "d10"), "d8", 1),
    ]
    assert teams.state.groups.groups["g2"].closes_at == teams.clock.now().wall + 900


def test_teams_mode_without_teams_is_invalid(sitting30: Sitting) -> None:
    assert refused(sitting30, "d1", "create_groups", mode="teams") == "invalid"


@pytest.mark.parametrize(("delegates", "count", "sizes"), [(30, 4, [8, 8, 7, 7]), (10, 3, [4, 3, 3]), (6, 6, [1] * 6)])
def test_split_evenly_sizes_differ_by_at_most_one(delegates: int, count: int, sizes: list[int]) -> None:
    s = Sitting(delegates)
    events = s.run(SECRETARY, "create_groups", mode="split", count=count)
    assert [len(e.members) for e in events] == sizes
    assert [m for e in events for m in e.members] == [f"d{i}" for i in range(1, delegates + 1)]
    assert [e.name for e in events] == [f"Nhóm {i}" for i in range(1, count + 1)]


def test_split_refuses_more_groups_than_members(sitting30: Sitting) -> None:
    assert refused(sitting30, "d1", "create_groups", mode="split", count=31) == "invalid"
    assert refused(sitting30, "d1", "create_groups", mode="split", count=0) == "invalid"


def test_manual_groups_check_members_and_convener(sitting30: Sitting) -> None:
    s = sitting30
    assert refused(s, "d1", "create_groups", groups=[{"name": "A", "members": ["d1", "g1"]}]) == "invalid"
    assert refused(s, "d1", "create_groups", groups=[{"name": "A", "members": ["d1", "nobody"]}]) == "not_found"
    assert refused(s, "d1", "create_groups", groups=[{"name": "A", "members": ["d1"], "convener": "d2"}]) == "invalid"
    assert refused(s, "d1", "create_groups", groups=[{"name": "A", "members": ["d1"]}, {"name": "A", "members": ["d2"]}]) == "invalid"
    (e,) = s.run("d1", "create_groups", groups=[{"name": " Tổ  A ", "members": ["d3", "d4"], "convener": "d4"}])
    assert (e.name, e.members, e.convener) == ("Tổ  A", ("d3", "d4"), "d4")


def test_only_group_managers_form_groups(sitting30: Sitting) -> None:
    assert refused(sitting30, "d3", "create_groups", mode="split", count=2) == "forbidden"
    assert refused(sitting30, "g1", "create_groups", mode="split", count=2) == "forbidden"


@pytest.fixture
def two(sitting30: Sitting) -> Sitting:
    """Group g1 = d3..d5 (d3 convenes), group g2 = d6..d8."""
    sitting30.run("d1", "create_groups", groups=[
        {"name": "Tổ A", "members": ["d3", "d4", "d5"]},
        {"name": "Tổ B", "members": ["d6", "d7", "d8"]},
    ])
    return sitting30


def test_members_post_and_only_members_see_the_messages(two: Sitting) -> None:
    two.run("d3", "post_group_message", group_id="g1", text="Đề nghị bổ sung\u0301 số liệu")
    two.run("d4", "post_group_message", group_id="g1", text="Tán thành")
    assert [m.text for m in two.state.groups.groups["g1"].messages][1] == "Tán thành"
    assert refused(two, "d6", "post_group_message", group_id="g1", text="x") == "forbidden"
    assert refused(two, "g1", "post_group_message", group_id="g1", text="x") == "forbidden"
    assert refused(two, "d3", "post_group_message", group_id="g1", text="  ") == "invalid"
    assert refused(two, "d3", "post_group_message", group_id="nope", text="x") == "not_found"
    (mine,) = groups_of(two, "d4")
    assert (mine["id"], mine["message_count"], mine["member"]) == ("g1", 2, True)
    assert [g["id"] for g in groups_of(two, "d6")] == ["g2"]
    assert groups_of(two, "d9") == []
    chair = {g["id"]: g for g in groups_of(two, "d1")}
    assert set(chair) == {"g1", "g2"} and "messages" not in chair["g1"] and chair["g1"]["status"] == "open"
    assert "messages" not in {g["id"]: g for g in groups_of(two, "sec")}["g1"]
    assert groups_section(two.state, two.actor("g1"))["groups"] == []


def test_the_body_may_let_the_chair_read_the_discussions(two: Sitting) -> None:
    two.run("d3", "post_group_message", group_id="g1", text="Ý kiến")
    assert refused(two, "d1", "set_group_settings", chair_sees_group_messages=True) == "forbidden"
    two.run(SECRETARY, "set_group_settings", chair_sees_group_messages=True)
    chair = {g["id"]: g for g in groups_of(two, "d1")}
    assert chair["g1"]["message_count"] == 1
    assert "messages" not in {g["id"]: g for g in groups_of(two, "sec")}["g1"]


def test_input_is_nfc(two: Sitting) -> None:
    two.run("d3", "post_group_message", group_id="g1", text="Nguye\u0302\u0303n")
    assert two.state.groups.groups["g1"].messages[0].text == "Nguyễn"


def test_a_closed_group_refuses_posts_and_a_reopened_one_takes_them(two: Sitting) -> None:
    two.run("d1", "close_group", group_id="g1")
    assert two.run("d1", "close_group", group_id="g1") == []  # a double tap
    assert refused(two, "d3", "post_group_message", group_id="g1", text="x") == "group_closed"
    assert refused(two, "d3", "comment_group_notes", group_id="g1", text="x") == "group_closed"
    assert refused(two, "d3", "edit_group_notes", group_id="g1", text="x") == "group_closed"
    assert refused(two, "d3", "close_group", group_id="g1") == "forbidden"
    two.run("d1", "reopen_group", group_id="g1")
    two.run("d3", "post_group_message", group_id="g1", text="Tiếp tục")
    assert len(two.state.groups.groups["g1"].messages) == 1


def test_the_time_limit_closes_the_group_to_posts(two: Sitting) -> None:
    two.run("d1", "reopen_group", group_id="g2", duration_s=60)
    two.run("d6", "post_group_message", group_id="g2", text="Trong giờ")
    two.clock.advance(60)
    assert refused(two, "d6", "post_group_message", group_id="g2", text="Hết giờ") == "group_closed"
    two.run("d1", "reopen_group", group_id="g2")
    two.run("d6", "post_group_message", group_id="g2", text="Gia hạn")
    assert two.state.groups.groups["g2"].closes_at is None


def test_convener_rights(two: Sitting) -> None:
    two.run("d3", "edit_group_notes", group_id="g1", text="Dự thảo ghi chép")
    assert refused(two, "d4", "edit_group_notes", group_id="g1", text="x") == "forbidden"
    two.run("d4", "comment_group_notes", group_id="g1", text="Cần sửa đoạn 2")
    assert refused(two, "d4", "submit_group_conclusions", group_id="g1", text="x") == "forbidden"
    assert refused(two, "d1", "set_group_convener", group_id="g1", participant_id="d6") == "invalid"
    two.run("d1", "set_group_convener", group_id="g1", participant_id="d4")
    assert refused(two, "d3", "edit_group_notes", group_id="g1", text="x") == "forbidden"
    two.run("d4", "edit_group_notes", group_id="g1", text="Bản sửa")
    (g,) = groups_of(two, "d5")
    assert (g["notes"], [c["text"] for c in g["comments"]], g["convener"]) == ("Bản sửa", ["Cần sửa đoạn 2"], "d4")


def test_conclusions_after_closing_go_to_the_minutes_and_the_display(two: Sitting) -> None:
    two.run("d1", "close_group", group_id="g1")
    two.run("d3", "submit_group_conclusions", group_id="g1", text="Tổ A tán thành dự thảo")
    two.run("d6", "submit_group_conclusions", group_id="g2", text="Tổ B đề nghị sửa Điều 3")
    assert [(r["name"], r["conclusions"]) for r in minutes(two.state)] == [
        ("Tổ A", "Tổ A tán thành dự thảo"), ("Tổ B", "Tổ B đề nghị sửa Điều 3")]
    chair = {g["id"]: g["conclusions"] for g in groups_of(two, "d1")}
    assert chair == {"g1": "Tổ A tán thành dự thảo", "g2": "Tổ B đề nghị sửa Điều 3"}
    display = Actor.for_role("disp", "display")
    assert groups_section(two.state, display)["presented"] == []
    assert refused(two, "d3", "present_group_conclusions", show=True) == "forbidden"
    two.run("d1", "present_group_conclusions", show=True)
    shown = groups_section(two.state, display)
    assert (shown["present_conclusions"], [p["name"] for p in shown["presented"]]) == (True, ["Tổ A", "Tổ B"])
    assert shown["groups"] == []


def test_replaying_the_events_rebuilds_the_groups(two: Sitting) -> None:
    two.run("d3", "post_group_message", group_id="g1", text="Một")
    two.run("d3", "submit_group_conclusions", group_id="g1", text="Kết luận")
    again = SessionState.model_validate(two.state.model_dump(mode="json"))
    assert again.groups == two.state.groups
    assert view_for(again, two.actor("d3"))["groups"] == view_for(two.state, two.actor("d3"))["groups"]


def test_group_documents_are_read_by_members_and_the_secretary_only(two: Sitting) -> None:
    from appliance.meeting.views import may_read

    doc = DocumentMeta(id="x", item_id="i1", title="T", filename="t.pdf", pages=2, access="group:g1")
    state = two.state
    assert may_read(doc, two.actor("d4"), state)
    assert may_read(doc, SECRETARY, state)
    assert not may_read(doc, two.actor("d6"), state)
    assert not may_read(doc, two.actor("d1"), state)
    assert not may_read(doc, two.actor("g1"), state)
    assert not may_read(doc, two.actor("d4"))  # without the state nobody is a member


def test_events_round_trip_through_the_journal_form(two: Sitting) -> None:
    events = two.run("d3", "post_group_message", group_id="g1", text="Xem trang 1")
    body = events[0].to_dict()
    fresh = SessionState.model_validate(two.state.model_dump(mode="json"))
    fresh.groups.groups["g1"].messages.clear()
    apply(fresh, Event.from_dict(body), 99)
    assert fresh.groups.groups["g1"].messages[0].text == "Xem trang 1"
    assert SYSTEM.can("group.manage")


def test_a_message_may_point_at_a_page_the_member_can_read(two: Sitting) -> None:
    docs = two.state.documents
    docs["open"] = DocumentMeta(id="open", item_id="i1", title="T", filename="t.pdf", pages=3)
    docs["theirs"] = DocumentMeta(id="theirs", item_id="i1", title="T", filename="t.pdf", pages=3, access="group:g2")
    two.run("d3", "post_group_message", group_id="g1", text="Xem", ref={"doc": "open", "page": 3})
    (g,) = groups_of(two, "d3")
    assert g["messages"][0]["ref"] == {"doc": "open", "page": 3}
    assert refused(two, "d3", "post_group_message", group_id="g1", text="x", ref={"doc": "open", "page": 4}) == "not_found"
    assert refused(two, "d3", "post_group_message", group_id="g1", text="x", ref={"doc": "theirs", "page": 1}) == "not_found"
