"""Discussion groups in real Chromium against the real server.

Two delegates of one group talk live from two tablets; a third delegate, in another
group, sees nothing of it. A message typed while the tablet is offline waits in the
outbox and is posted exactly once when the network is back. The convener reports, the
chair reads the conclusions and shows them on the hall display.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DELEGATES, HALL, REPO, TABLET, TABLET_PORTRAIT, Server, pair_page

pytestmark = pytest.mark.e2e

FIRST = "Đề nghị Tổ 1 làm rõ nguồn vốn đối ứng của phường."
REPLY = "Đồng ý, tôi bổ sung số liệu giải ngân quý III."
OFFLINE = "Ý kiến gõ khi mất Wi-Fi — phải gửi đúng một lần."
CONCLUSION = "Tổ 1 tán thành dự thảo, đề nghị bổ sung tiến độ giải ngân."


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _messages(page: Any, gid: str) -> list[str]:
    # Through the screen's own api module: it signs each request with the device's proof.
    body = page.evaluate(f"import('/ui/api.js').then((api) => api.get('/api/groups/{gid}/messages'))")
    return [m["text"] for m in body["messages"]]


def test_two_members_talk_live_and_an_outsider_sees_nothing(browser: Any, server: Server, shots: Any) -> None:
    expect = _expect()
    chair_p, nhung, phuong, tuyet = (server.by_name(d["name"]) for d in DELEGATES)
    made = server.secretary.post("/api/groups", json={"mode": "manual", "item": 1, "duration_s": 900, "groups": [
        {"name": "Tổ đại biểu số 1", "members": [nhung["id"], phuong["id"]], "convener": nhung["id"]},
        {"name": "Tổ đại biểu số 2", "members": [tuyet["id"]]},
    ]})
    assert made.status_code == 200, made.text
    g1, g2 = (g["id"] for g in made.json()["groups"])
    a = pair_page(browser, server, nhung["id"], TABLET, "delegate.html")
    b = pair_page(browser, server, phuong["id"], TABLET_PORTRAIT, "delegate.html")
    c = pair_page(browser, server, tuyet["id"], TABLET, "delegate.html")
    chair = pair_page(browser, server, chair_p["id"], TABLET, "chair.html")
    display = pair_page(browser, server, server.by_name("Màn hình hội trường chính")["id"], HALL, "display.html")
    posted: list[str] = []
    for page in (a, b):
        page.on("request", lambda r: r.method == "POST" and posted.append(r.url))
    try:
        # Each tablet lists only its own group.
        expect(a.locator("#groups-card")).to_contain_text("Tổ đại biểu số 1")
        expect(c.locator("#groups-card")).to_contain_text("Tổ đại biểu số 2")
        expect(c.locator("#groups-card")).not_to_contain_text("Tổ đại biểu số 1")

        a.get_by_test_id(f"open-group-{g1}").click()
        b.get_by_test_id(f"open-group-{g1}").click()
        c.get_by_test_id(f"open-group-{g2}").click()
        expect(a.get_by_test_id("group-panel")).to_contain_text("Bạn là tổ trưởng")
        a.get_by_test_id("group-input").fill(FIRST)
        a.get_by_test_id("group-send").click()
        expect(b.get_by_test_id("group-messages")).to_contain_text(FIRST)  # live, no reload
        b.get_by_test_id("group-input").fill(REPLY)
        b.get_by_test_id("group-input").press("Enter")
        expect(a.get_by_test_id("group-messages")).to_contain_text(REPLY)
        shots(a, "group-panel-tablet")
        shots(b, "group-panel-portrait")
        # While the socket was up the messages went on it, not as HTTP requests.
        assert [u for u in posted if "/messages" in u] == []

        # A Wi-Fi drop: the message waits, then goes once.
        a.context.set_offline(True)
        a.get_by_test_id("group-input").fill(OFFLINE)
        a.get_by_test_id("group-send").click()
        expect(a.get_by_test_id("group-pending")).to_contain_text(OFFLINE)
        shots(a, "group-panel-offline")
        a.wait_for_timeout(1500)
        a.context.set_offline(False)
        expect(b.get_by_test_id("group-messages")).to_contain_text(OFFLINE, timeout=20_000)
        expect(a.get_by_test_id("group-pending")).to_have_count(0, timeout=20_000)
        assert _messages(b, g1) == [FIRST, REPLY, OFFLINE]

        # The live section carries only the newest few messages; a tablet that joins late
        # (or was away) reads the rest once and shows the whole conversation, in order.
        later = [f"Ý kiến bổ sung số {n}" for n in range(1, 7)]
        for text in later:
            a.evaluate("([g, t]) => import('/ui/api.js').then((api) => api.post(`/api/groups/${g}/messages`, {text: t}))", [g1, text])
        expect(b.get_by_test_id("group-messages").locator("li")).to_have_count(9)
        late = pair_page(browser, server, phuong["id"], TABLET, "delegate.html")
        late.get_by_test_id(f"open-group-{g1}").click()
        expect(late.get_by_test_id("group-messages").locator("li")).to_have_count(9)
        expect(late.get_by_test_id("group-messages").locator("li").first).to_contain_text(FIRST)
        expect(late.get_by_test_id("group-messages").locator("li").last).to_contain_text(later[-1])
        late.context.close()

        # The outsider (another group, same role) saw nothing and may read nothing.
        for page in (c,):
            assert FIRST not in page.content() and REPLY not in page.content()
            status = page.evaluate(
                f"import('/ui/api.js').then((api) => api.get('/api/groups/{g1}/messages').then(() => 200, (e) => e.status))")
            assert status == 403
        expect(c.get_by_test_id("group-messages")).to_contain_text("Chưa có ý kiến nào")
        shots(c, "group-outsider")

        # A document for group 1 only: its members find it under the group's documents; group 2 sees none.
        pdf = REPO / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"
        up = server.secretary.post("/api/documents", files={"file": (pdf.name, pdf.read_bytes(), "application/pdf")},
                                   data={"item": "1", "access": f"group:{g1}"})
        assert up.status_code == 200, up.text
        title = up.json()["document"]["title"]
        b.get_by_role("tab", name="Tài liệu nhóm").click()
        expect(b.get_by_test_id("group-docs")).to_contain_text(title)
        c.get_by_role("tab", name="Tài liệu nhóm").click()
        expect(c.get_by_test_id("group-docs")).to_have_text("Nhóm chưa có tài liệu riêng.")
        shots(b, "group-documents-portrait")

        # The convener reports; the chair reads it beside the other group's and presents it.
        a.get_by_role("tab", name="Kết luận").click()
        a.locator(".group-conclusions textarea").fill(CONCLUSION)
        a.get_by_role("button", name="Gửi kết luận").click()
        expect(chair.get_by_test_id(f"chair-group-{g1}")).to_contain_text(CONCLUSION)
        assert FIRST not in chair.content()  # the chair sees status and conclusions, not the talk
        chair.get_by_test_id("present-conclusions").click()
        expect(display.get_by_test_id("display-conclusions")).to_contain_text(CONCLUSION)
        shots(chair, "group-chair-card")
        shots(display, "group-display-conclusions")
    finally:
        # The package's other tests share this sitting: leave the display as it was.
        server.secretary.post("/api/group-conclusions/present", json={"show": False})
        for page in (a, b, c, chair, display):
            page.context.close()
