"""The chair forms discussion groups by hand in real Chromium; the secretary's switch.

The chair names two groups, places each delegate from the participant list and picks a
convener (tổ trưởng) for each; every member's tablet then lists its group under that
name with that convener. The secretary sets whether the chair may read the discussions,
and the chair's card says how it stands.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import DELEGATES, TABLET, TABLET_PORTRAIT, Server, pair_page

pytestmark = pytest.mark.e2e

ECONOMY = "Tổ Kinh tế – Ngân sách"
SOCIETY = "Tổ Văn hóa – Xã hội"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_the_chair_forms_two_groups_by_hand_and_members_see_name_and_convener(browser: Any, server: Server, shots: Any) -> None:
    expect = _expect()
    thang, nhung, phuong, tuyet = (server.by_name(d["name"]) for d in DELEGATES)
    chair = pair_page(browser, server, thang["id"], TABLET, "chair.html")
    tablets = {p["id"]: pair_page(browser, server, p["id"], TABLET if i % 2 else TABLET_PORTRAIT, "delegate.html")
               for i, p in enumerate((nhung, phuong, tuyet))}
    try:
        card = chair.locator("#groups-chair")
        if not card.locator("details.group-create").evaluate("d => d.open"):
            card.locator("details.group-create > summary").click()
        card.get_by_test_id("group-mode").select_option("manual")
        manual = card.get_by_test_id("group-manual")
        expect(manual).to_be_visible()
        manual.get_by_test_id("manual-name-1").fill(ECONOMY)
        manual.get_by_test_id("manual-name-2").fill(SOCIETY)
        for pid, group in ((nhung["id"], ECONOMY), (phuong["id"], ECONOMY), (tuyet["id"], SOCIETY), (thang["id"], SOCIETY)):
            manual.get_by_test_id(f"manual-assign-{pid}").select_option(label=group)
        expect(manual.get_by_test_id("manual-group-1")).to_contain_text("2 thành viên")
        manual.get_by_test_id("manual-convener-1").select_option(label=phuong["name"])
        manual.get_by_test_id("manual-convener-2").select_option(label=tuyet["name"])
        expect(manual).to_contain_text("0 đại biểu chưa vào nhóm")
        manual.scroll_into_view_if_needed()
        shots(chair, "groups-manual-form-chair")
        shots(chair, "groups-manual-form-chair-full", full_page=True)
        card.get_by_test_id("create-groups").click()

        made = {g["name"]: g for g in server.secretary.get("/api/groups").json()["groups"] if g["name"] in (ECONOMY, SOCIETY)}
        assert {n: (sorted(g["members"]), g["convener"]) for n, g in made.items()} == {
            ECONOMY: (sorted([nhung["id"], phuong["id"]]), phuong["id"]),
            SOCIETY: (sorted([tuyet["id"], thang["id"]]), tuyet["id"]),
        }
        for name, g in made.items():
            expect(card.get_by_test_id(f"chair-group-{g['id']}")).to_contain_text(name)
        expect(card.get_by_test_id(f"chair-group-{made[ECONOMY]['id']}")).to_contain_text(f"Tổ trưởng: {phuong['name']}")
        shots(chair, "groups-manual-created-chair")

        # Each member's tablet lists its own group, named as the chair named it, with its convener.
        for pid, name, other, convener in ((nhung["id"], ECONOMY, SOCIETY, phuong), (phuong["id"], ECONOMY, SOCIETY, None),
                                           (tuyet["id"], SOCIETY, ECONOMY, None)):
            page = tablets[pid]
            expect(page.locator("#groups-card")).to_contain_text(name)
            expect(page.locator("#groups-card")).not_to_contain_text(other)
            page.get_by_test_id(f"open-group-{made[name]['id']}").click()
            head = page.get_by_test_id("group-panel").locator(".group-panel-head")
            expect(head).to_contain_text(name)
            expect(head).to_contain_text(f"Tổ trưởng: {convener['name']}" if convener else "Bạn là tổ trưởng")
        shots(tablets[nhung["id"]], "groups-manual-member-portrait")
        shots(tablets[tuyet["id"]], "groups-manual-convener-portrait")
        shots(tablets[phuong["id"]], "groups-manual-convener-tablet")
    finally:
        for gid in [g["id"] for g in server.secretary.get("/api/groups").json()["groups"] if g["name"] in (ECONOMY, SOCIETY)]:
            server.secretary.post(f"/api/groups/{gid}/close", json={})
        for page in (chair, *tablets.values()):
            page.context.close()


def test_the_secretary_switches_whether_the_chair_reads_the_discussions(browser: Any, server: Server, shots: Any) -> None:
    expect = _expect()
    chair = pair_page(browser, server, server.by_name(DELEGATES[0]["name"])["id"], TABLET, "chair.html")
    desk = pair_page(browser, server, server.secretary_id, TABLET, "secretary.html")
    try:
        switch = desk.get_by_test_id("chair-sees-group-messages")
        expect(switch).not_to_be_checked()
        expect(chair.get_by_test_id("chair-sees-setting")).to_have_text(
            "Chủ tọa không xem nội dung trao đổi của các nhóm (thư ký thiết lập).")
        switch.check()
        expect(chair.get_by_test_id("chair-sees-setting")).to_have_text(
            "Chủ tọa được xem nội dung trao đổi của các nhóm (thư ký thiết lập).")
        assert server.secretary.get("/api/groups").json()["chair_sees_group_messages"] is True
        desk.get_by_test_id("groups-settings").scroll_into_view_if_needed()
        shots(desk, "groups-settings-secretary")
        desk.locator("[data-lang-toggle]").first.click()
        expect(desk.get_by_test_id("groups-settings")).to_contain_text("The chair may read the groups' discussions")
        switch.uncheck()
        expect(chair.get_by_test_id("chair-sees-setting")).to_contain_text("Chủ tọa không xem")
    finally:
        server.secretary.post("/api/group-settings", json={"chair_sees_group_messages": False})
        for page in (chair, desk):
            page.context.close()
