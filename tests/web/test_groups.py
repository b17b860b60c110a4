"""Discussion groups through the HTTP API and the live channel, role by role."""

from __future__ import annotations

import json
import queue
from typing import Any

import pytest

from tests.web.conftest import Hall


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def code(r: Any) -> tuple[int, str]:
    return r.status_code, r.json().get("code", "ok") if r.status_code >= 400 else "ok"


def add_delegates(hall: Hall, *names: str) -> None:
    """More delegates of the same role, each with a paired device (hall.tokens[name])."""
    rows = [{"name": f"Đại biểu {n}", "role": "delegate", "seat": 10 + i} for i, n in enumerate(names)]
    made = ok(hall.call("POST", "/api/participants", "secretary", json={"participants": rows}))["participants"]
    for name, p in zip(names, made, strict=True):
        c = ok(hall.call("POST", "/api/pairing-codes", "secretary", json={"participant_id": p["id"]}))["code"]
        hall.tokens[name] = ok(hall.call("POST", "/api/pair", None, json={"code": c}))["token"]
        hall.ids[name] = p["id"]


@pytest.fixture
def groups(hall: Hall) -> Hall:
    """g1 = chair + delegate (the delegate convenes), g2 = vice chair + d_b; d_a is in g1 too."""
    add_delegates(hall, "d_a", "d_b")
    body = {"mode": "manual", "item": 1, "groups": [
        {"name": "Tổ 1", "members": [hall.ids["delegate"], hall.ids["chair"], hall.ids["d_a"]], "convener": hall.ids["delegate"]},
        {"name": "Tổ 2", "members": [hall.ids["vice_chair"], hall.ids["d_b"]]},
    ]}
    made = ok(hall.call("POST", "/api/groups", "chair", json=body))["groups"]
    assert [(g["id"], g["name"], g["convener"]) for g in made] == [("g1", "Tổ 1", hall.ids["delegate"]), ("g2", "Tổ 2", hall.ids["vice_chair"])]
    return hall


def post(hall: Hall, who: str, gid: str, text: str, **kw: Any) -> Any:
    return hall.call("POST", f"/api/groups/{gid}/messages", who, json={"text": text}, **kw)


@pytest.mark.parametrize(("role", "expected"), [
    ("chair", (200, "ok")), ("vice_chair", (200, "ok")), ("secretary", (200, "ok")),
    ("delegate", (403, "forbidden")), ("guest", (403, "forbidden")), ("technician", (403, "forbidden")),
    ("display", (403, "forbidden")), (None, (401, "not_paired")),
])
def test_who_forms_groups(hall: Hall, role: str | None, expected: tuple[int, str]) -> None:
    r = hall.call("POST", "/api/groups", role, json={"mode": "split", "count": 1})
    assert code(r) == expected


@pytest.mark.parametrize(("who", "expected"), [
    ("delegate", (200, "ok")), ("chair", (200, "ok")), ("d_a", (200, "ok")),
    ("vice_chair", (403, "forbidden")), ("d_b", (403, "forbidden")), ("secretary", (403, "forbidden")),
    ("guest", (403, "forbidden")), ("technician", (403, "forbidden")), ("display", (403, "forbidden")),
    (None, (401, "not_paired")),
])
def test_only_members_read_and_post_messages(groups: Hall, who: str | None, expected: tuple[int, str]) -> None:
    ok(post(groups, "delegate", "g1", "Ý kiến thứ nhất"))
    read = groups.call("GET", "/api/groups/g1/messages", who)
    sent = post(groups, who, "g1", "Thử")  # the secretary keeps the minutes, never takes part
    assert code(read) == expected
    assert code(sent) == expected
    if expected[0] == 200:
        assert read.json()["count"] == 1 and read.json()["messages"][0]["text"] == "Ý kiến thứ nhất"


def test_what_each_role_sees_in_the_list(groups: Hall) -> None:
    ok(post(groups, "delegate", "g1", "Nội dung kín"))
    seen = {who: ok(groups.call("GET", "/api/groups", who))["groups"] for who in ("delegate", "d_b", "chair", "secretary", "vice_chair")}
    assert [g["id"] for g in seen["delegate"]] == ["g1"] and seen["delegate"][0]["message_count"] == 1
    assert [g["id"] for g in seen["d_b"]] == ["g2"]
    by_id = {g["id"]: g for g in seen["secretary"]}
    assert set(by_id) == {"g1", "g2"} and "messages" not in by_id["g1"] and by_id["g1"]["status"] == "open"
    assert "messages" not in {g["id"]: g for g in seen["vice_chair"]}["g1"]
    for role in ("guest", "technician", "display"):
        assert code(groups.call("GET", "/api/groups", role)) == (403, "forbidden")
        state = ok(groups.call("GET", "/api/state", role))
        assert state["groups"]["groups"] == [] and "Nội dung kín" not in json.dumps(state, ensure_ascii=False)
    assert code(groups.call("GET", "/api/groups/g1", "d_b")) == (403, "forbidden")
    assert code(groups.call("GET", "/api/groups/nope", "d_b")) == (404, "not_found")


def test_closed_group_refuses_posts_until_reopened(groups: Hall) -> None:
    assert code(groups.call("POST", "/api/groups/g1/close", "delegate", json={})) == (403, "forbidden")
    assert ok(groups.call("POST", "/api/groups/g1/close", "chair", json={}))["group"]["status"] == "closed"
    assert code(post(groups, "delegate", "g1", "Muộn")) == (409, "group_closed")
    reopened = ok(groups.call("POST", "/api/groups/g1/reopen", "secretary", json={"duration_s": 600}))["group"]
    assert reopened["status"] == "open" and reopened["closes_at"] > reopened["opened_at"]
    ok(post(groups, "delegate", "g1", "Tiếp"))


def test_notes_comments_and_conclusions_follow_the_convener(groups: Hall) -> None:
    assert code(groups.call("POST", "/api/groups/g1/notes", "d_a", json={"text": "x"})) == (403, "forbidden")
    ok(groups.call("POST", "/api/groups/g1/notes", "delegate", json={"text": "Ghi chép chung"}))
    ok(groups.call("POST", "/api/groups/g1/comments", "d_a", json={"text": "Bổ sung ý 2"}))
    assert code(groups.call("POST", "/api/groups/g1/comments", "d_b", json={"text": "x"})) == (403, "forbidden")
    assert code(groups.call("POST", "/api/groups/g1/conclusions", "d_a", json={"text": "x"})) == (403, "forbidden")
    ok(groups.call("POST", "/api/groups/g1/conclusions", "delegate", json={"text": "Tổ 1 tán thành"}))
    ok(groups.call("POST", "/api/groups/g2/conclusions", "vice_chair", json={"text": "Tổ 2 đề nghị sửa"}))
    g = ok(groups.call("GET", "/api/groups/g1", "d_a"))["group"]
    assert (g["notes"], [c["text"] for c in g["comments"]], g["conclusions"]) == ("Ghi chép chung", ["Bổ sung ý 2"], "Tổ 1 tán thành")
    side = ok(groups.call("GET", "/api/group-conclusions", "secretary"))["conclusions"]
    assert [(r["name"], r["conclusions"]) for r in side] == [("Tổ 1", "Tổ 1 tán thành"), ("Tổ 2", "Tổ 2 đề nghị sửa")]
    assert code(groups.call("POST", "/api/group-conclusions/present", "delegate", json={"show": True})) == (403, "forbidden")
    ok(groups.call("POST", "/api/group-conclusions/present", "chair", json={"show": True}))
    display = ok(groups.call("GET", "/api/state", "display"))["groups"]
    assert display["present_conclusions"] is True
    assert [p["conclusions"] for p in display["presented"]] == ["Tổ 1 tán thành", "Tổ 2 đề nghị sửa"]


def test_the_body_setting_lets_the_chair_read(groups: Hall) -> None:
    ok(post(groups, "d_b", "g2", "Trong tổ 2"))
    assert code(groups.call("GET", "/api/groups/g2/messages", "chair")) == (403, "forbidden")
    assert code(groups.call("POST", "/api/group-settings", "chair", json={"chair_sees_group_messages": True})) == (403, "forbidden")
    ok(groups.call("POST", "/api/group-settings", "secretary", json={"chair_sees_group_messages": True}))
    assert ok(groups.call("GET", "/api/groups/g2/messages", "chair"))["count"] == 1
    assert code(groups.call("GET", "/api/groups/g2/messages", "secretary")) == (403, "forbidden")
    assert code(post(groups, "chair", "g2", "x")) == (403, "forbidden")  # reading is not taking part


def test_a_resent_message_is_posted_once(groups: Hall) -> None:
    key = {"Idempotency-Key": "outbox-1"}
    first = ok(post(groups, "d_a", "g1", "Gửi lại khi có mạng", headers=key))
    again = ok(post(groups, "d_a", "g1", "Gửi lại khi có mạng", headers=key))
    assert first["message"]["id"] == again["message"]["id"]
    assert ok(groups.call("GET", "/api/groups/g1/messages", "d_a"))["count"] == 1


def test_group_documents_are_for_members_and_the_secretary(groups: Hall) -> None:
    from pathlib import Path

    pdf = Path(__file__).resolve().parents[2] / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"
    r = groups.call("POST", "/api/documents", "secretary", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
                    data={"item": "1", "access": "group:g1"})
    doc = ok(r)["document"]
    assert doc["access"] == "group:g1"
    bad = groups.call("POST", "/api/documents", "secretary", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
                      data={"item": "1", "access": "group:nope"})
    assert code(bad) == (400, "invalid")
    for who, seen in (("delegate", 200), ("d_a", 200), ("secretary", 200), ("d_b", 404), ("vice_chair", 404), ("guest", 404)):
        assert groups.call("GET", f"/api/documents/{doc['id']}", who).status_code == seen, who
    assert doc["id"] in ok(groups.call("GET", "/api/state", "d_a"))["documents"]
    assert doc["id"] not in ok(groups.call("GET", "/api/state", "d_b"))["documents"]
    ok(groups.call("POST", "/api/groups/g1/messages", "d_a", json={"text": "Xem trang 1", "ref": {"doc": doc["id"], "page": 1}}))
    bad_ref = groups.call("POST", "/api/groups/g2/messages", "d_b", json={"text": "x", "ref": {"doc": doc["id"], "page": 1}})
    assert code(bad_ref) == (404, "not_found")


def _updates(ws: Any, seconds: float = 0.5) -> list[dict[str, Any]]:
    out = []
    while True:
        try:
            out.append(json.loads(ws.receive_text(timeout=seconds)))
        except queue.Empty:
            return out


def test_live_messages_reach_members_only_even_within_one_role(groups: Hall) -> None:
    """d_a (g1) and d_b (g2) are both plain delegates: the per-role cache must not mix them."""
    client = groups.client
    with client.websocket_connect("/api/live", headers=groups.headers("d_a")) as a, \
            client.websocket_connect("/api/live", headers=groups.headers("d_b")) as b:
        assert json.loads(a.receive_text(timeout=5))["type"] == "snapshot"
        assert json.loads(b.receive_text(timeout=5))["type"] == "snapshot"
        ok(post(groups, "delegate", "g1", "Chỉ tổ 1 được đọc"))
        got_a = _updates(a, 2.0)
        got_b = _updates(b, 0.5)
    assert got_a and got_a[0]["changed"]["groups"]["groups"][0]["messages"][-1]["text"] == "Chỉ tổ 1 được đọc"
    assert "Chỉ tổ 1" not in json.dumps(got_b, ensure_ascii=False)


def test_a_message_points_at_an_annotation_shared_with_the_group(groups: Hall) -> None:
    from pathlib import Path

    pdf = Path(__file__).resolve().parents[2] / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"
    doc = ok(groups.call("POST", "/api/documents", "secretary",
                         files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")}, data={"item": "1"}))["document"]
    shared = {"document": doc["id"], "page": 1, "kind": "highlight", "rects": [[72, 100, 300, 120]],
              "text": "Con số này lệch với báo cáo quý III", "shared_with": "g1"}
    ok(groups.call("PUT", "/api/annotations/note-shared-01", "d_a", json=shared))
    ok(groups.call("PUT", "/api/annotations/note-private-1", "d_a", json={**shared, "shared_with": None}))
    ref = {"doc": doc["id"], "page": 1, "note": "note-shared-01"}
    posted = ok(groups.call("POST", "/api/groups/g1/messages", "d_a", json={"text": "Xem ghi chú chung", "ref": ref}))
    assert posted["message"]["ref"] == ref
    # Another member reads the message with its reference, and the annotation itself.
    seen = ok(groups.call("GET", "/api/groups/g1/messages", "delegate"))["messages"][-1]
    assert (seen["text"], seen["ref"]) == ("Xem ghi chú chung", ref)
    notes = ok(groups.call("GET", f"/api/annotations?document={doc['id']}", "delegate"))["annotations"]
    assert [(n["id"], n["text"]) for n in notes] == [("note-shared-01", "Con số này lệch với báo cáo quý III")]
    # A private note, a note on another page, another group's message, an outsider: refused.
    for who, gid, bad in (
        ("d_a", "g1", {**ref, "note": "note-private-1"}),
        ("d_a", "g1", {**ref, "page": 2}),
        ("d_b", "g2", ref),
    ):
        assert code(groups.call("POST", f"/api/groups/{gid}/messages", who, json={"text": "x", "ref": bad})) == (404, "not_found")
    assert code(groups.call("POST", "/api/groups/g1/messages", "d_b", json={"text": "x", "ref": ref})) == (403, "forbidden")
    assert code(groups.call("POST", "/api/groups/g1/messages", "d_a", json={"text": "x", "ref": {**ref, "note": "a b"}})) == (400, "invalid")
    assert ok(groups.call("GET", "/api/groups/g1/messages", "d_a"))["count"] == 1
