"""The seating plan in real Chromium against the real server (issue 5).

The secretary imports 30 deputies of the corpus list from a spreadsheet file, builds a
30-seat hall (presidium table and two blocks), seats delegates by drag-and-drop and by
tap, seats the rest automatically; three delegates check in from their tablets; the
hall display's seating view shows exactly those three present, live.

Its own server (not the package's shared one): 30 delegates would change everyone
else's quorum.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    CORPUS,
    HALL,
    TABLET,
    Server,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e
LIST = CORPUS / "delegates-qh-xvi-derived.csv"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def hall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not LIST.exists():
        pytest.skip("../shared/corpus is absent")
    tmp = tmp_path_factory.mktemp("phs-seating")
    port = free_port()
    proc, log_path = launch_server(tmp, port)
    try:
        client, secretary_id = pair_secretary(f"http://127.0.0.1:{port}")
        srv = Server(base=f"http://127.0.0.1:{port}", secretary=client, secretary_id=secretary_id, log_path=log_path)
        assert client.post("/api/setup", json={"body": "HĐND phường Cửa Nam", "session": "Kỳ họp thứ hai",
                                               "sittings": ["Phiên họp thứ nhất"]}).status_code == 200
        made = client.post("/api/participants", json={"participants": [{"name": "Màn hình chính", "role": "display"}]})
        srv.participants = {p["name"]: p for p in made.json()["participants"]}
        yield srv
        client.close()
    finally:
        stop_server(proc)


def thirty_rows_csv() -> bytes:
    with LIST.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))[:30]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["Họ và tên", "Chức vụ", "Đơn vị", "Vai trò"])  # the secretary's own headers, no seat column
    for i, r in enumerate(rows):
        w.writerow([r["ho_ten"], r["nghe_nghiep_chuc_vu"][:80], r["noi_cong_tac"], "Chủ tọa" if i == 0 else ""])
    return out.getvalue().encode("utf-8")


def token_for(server: Server, pid: str) -> httpx.Client:
    code = server.secretary.post("/api/pairing-codes", json={"participant_id": pid}).json()["code"]
    token = httpx.post(f"{server.base}/api/pair", json={"code": code}).json()["token"]
    return httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def add_section(page: Any, shape: str, **values: Any) -> None:
    page.get_by_test_id("seat-shape").select_option(shape)
    for name, value in values.items():
        page.get_by_test_id(f"seat-{name}").fill(str(value))
    page.get_by_test_id("seat-add-section").click()


def test_secretary_builds_a_30_seat_plan_and_the_display_shows_three_present(browser: Any, hall_server: Server, shots: Any) -> None:
    expect = _expect()
    server = hall_server
    sec = pair_page(browser, server, server.secretary_id, {"width": 1440, "height": 1000}, "secretary.html")
    pages = [sec]
    try:
        # Import the list from a file, through the import card.
        sec.get_by_test_id("import-file").set_input_files({"name": "dai-bieu.csv", "mimeType": "text/csv", "buffer": thirty_rows_csv()})
        sec.get_by_test_id("import-do").click()
        expect(sec.get_by_test_id("import-out")).to_contain_text("Đã nhập 30 người")
        expect(sec.get_by_test_id("seat-unseated")).to_contain_text("Chưa xếp chỗ (30)")

        # Lay out the hall: the presidium table and two blocks of 2 x 7.
        add_section(sec, "presidium", seats=2, block="Đoàn Chủ tịch")
        add_section(sec, "blocks", blocks=2, rows=2, per_row=7, block="Khối")
        sec.get_by_test_id("seat-build").click()
        expect(sec.get_by_test_id("seat-total")).to_have_text("30 ghế")
        expect(sec.locator("[data-testid=seat-plan] .seat")).to_have_count(30)

        people = {p["name"]: p for p in server.secretary.get("/api/participants").json()["participants"]}
        to_lam, luu, nguyen = people["TÔ LÂM"], people["LƯU NAM TIẾN"], people["NGUYỄN HOÀNG TRƯỜNG"]
        # Drag-and-drop two names onto the presidium; tap a third, then tap its seat.
        sec.get_by_test_id("seat-unseated").scroll_into_view_if_needed()  # the list and the plan both in view
        sec.get_by_test_id(f"chip-{to_lam['id']}").drag_to(sec.get_by_test_id("seat-1"))
        expect(sec.get_by_test_id("seat-1")).to_contain_text("LÂM")
        sec.get_by_test_id(f"chip-{luu['id']}").drag_to(sec.get_by_test_id("seat-2"))
        expect(sec.get_by_test_id("seat-2")).to_contain_text("TIẾN")
        sec.get_by_test_id(f"chip-{nguyen['id']}").click()
        sec.get_by_test_id("seat-3").click()
        expect(sec.get_by_test_id("seat-3")).to_contain_text("TRƯỜNG")
        # Moving a seated delegate: drag seat 3 onto seat 10.
        sec.get_by_test_id("seat-3").drag_to(sec.get_by_test_id("seat-10"))
        expect(sec.get_by_test_id("seat-10")).to_contain_text("TRƯỜNG")
        expect(sec.get_by_test_id("seat-3")).not_to_contain_text("TRƯỜNG")
        sec.get_by_test_id("seat-auto").click()
        expect(sec.get_by_test_id("seat-unseated")).to_contain_text("Chưa xếp chỗ (0)")
        card_shot = shots(sec, "seating-editor-secretary")
        sec.get_by_test_id("seating-card").screenshot(path=str(card_shot))  # the editor alone: the page is long
        shutil.copy(card_shot, "/tmp/phs-shots/seating-editor-secretary.png")

        seats = {p["name"]: p["seat"] for p in server.secretary.get("/api/participants").json()["participants"]}
        assert (seats["TÔ LÂM"], seats["LƯU NAM TIẾN"], seats["NGUYỄN HOÀNG TRƯỜNG"]) == (1, 2, 10)
        delegates = [p for p in server.secretary.get("/api/participants").json()["participants"] if p["role"] in ("chair", "delegate")]
        assert sorted(p["seat"] for p in delegates) == list(range(1, 31))

        # The chair opens the sitting; three delegates check in from their tablets.
        chair = token_for(server, to_lam["id"])
        assert chair.post("/api/sitting/open", json={}).status_code == 200
        by_seat = {p["seat"]: p for p in delegates}
        arriving = [by_seat[10], by_seat[12], by_seat[25]]
        display = pair_page(browser, server, server.participants["Màn hình chính"]["id"], HALL, "display.html")
        pages.append(display)
        display.goto(f"{server.base}/ui/display.html?view=seating")
        expect(display.get_by_test_id("view-seat-10")).to_have_attribute("data-state", "absent")
        for p in arriving:
            tab = pair_page(browser, server, p["id"], TABLET, "delegate.html")
            pages.append(tab)
            expect(tab.locator("#sitting-status")).to_have_text("Đang họp")  # the live state has arrived
            expect(tab.locator("#me-seat")).to_contain_text(str(p["seat"]))  # the seat the secretary gave
            expect(tab.locator("#check-in")).to_be_enabled()
            tab.locator("#check-in").click()
            expect(tab.locator("#check-in")).to_have_text("✓ Đã điểm danh", timeout=15_000)
        for seat in (10, 12, 25):
            expect(display.get_by_test_id(f"view-seat-{seat}")).to_have_attribute("data-state", "present")  # live, no reload
        states = display.locator("[data-testid=seat-view-plan] .seat").evaluate_all("ns => ns.map(n => n.dataset.state)")
        assert states.count("present") == 3 and states.count("absent") == 27
        expect(display.get_by_test_id("seat-view-quorum")).to_contain_text("3/30")
        shots(display, "seating-view-display")
        chair.close()
    finally:
        for page in pages:
            page.context.close()


def test_printable_seat_labels_list_every_seated_delegate(browser: Any, hall_server: Server, shots: Any) -> None:
    expect = _expect()
    server = hall_server
    if not any(p.get("seat") for p in server.secretary.get("/api/participants").json()["participants"]):
        pytest.skip("needs the plan of the previous test")
    page = pair_page(browser, server, server.secretary_id, {"width": 1000, "height": 1300}, "secretary.html")
    try:
        page.goto(f"{server.base}/ui/seat-labels.html")
        expect(page.get_by_test_id("label-1")).to_contain_text("TÔ LÂM")
        expect(page.locator(".label-card")).to_have_count(30)
        page.goto(f"{server.base}/ui/seat-labels.html?cards")
        expect(page.locator(".label-card .qr-svg")).to_have_count(30)
        shots(page, "checkin-cards-print")
    finally:
        page.context.close()


def test_after_a_public_poll_the_display_colours_each_seat_by_its_delegates_answer(
    browser: Any, hall_server: Server, shots: Any
) -> None:
    """The live section carries no per-delegate list: the view loads it once, from the poll."""
    expect = _expect()
    server = hall_server
    sec = server.secretary
    delegates = {p["seat"]: p for p in sec.get("/api/participants").json()["participants"]
                 if p["role"] in ("chair", "delegate") and p.get("seat")}
    if len(delegates) != 30 or (sec.get("/api/state").json().get("sitting") or {}).get("status") != "open":
        pytest.skip("needs the plan and the open sitting of the first test")
    for p in delegates.values():  # quorum (16 of 30): the secretary checks everyone in
        assert sec.post(f"/api/attendance/{p['id']}/check-in", json={}).status_code in (200, 409)
    display = pair_page(browser, server, server.participants["Màn hình chính"]["id"], HALL, "display.html")
    chair, voter = token_for(server, delegates[1]["id"]), token_for(server, delegates[10]["id"])
    try:
        display.goto(f"{server.base}/ui/display.html?view=seating")
        expect(display.get_by_test_id("view-seat-12")).to_have_attribute("data-state", "present")
        opened = chair.post("/api/polls", json={"question": "Thông qua sơ đồ chỗ ngồi", "method": "public"})
        assert opened.status_code == 200, opened.text
        poll_id = opened.json()["poll"]["id"]
        fetched: list[str] = []
        display.on("request", lambda r: r.url.endswith(f"/api/polls/{poll_id}") and fetched.append(r.url))
        assert voter.post(f"/api/polls/{poll_id}/ballots", json={"answer": "for"}).status_code == 200
        assert chair.post(f"/api/polls/{poll_id}/close", json={}).status_code == 200
        live = sec.get("/api/state").json()["polls"][-1]
        assert live["id"] == poll_id and "per_delegate" not in live["result"]  # why the view must fetch

        seat10, seat12 = display.get_by_test_id("view-seat-10"), display.get_by_test_id("view-seat-12")
        expect(seat10).to_have_attribute("data-vote", "for", timeout=15_000)
        expect(seat10).to_have_class("seat seat-seat seat-vote-for")
        expect(seat12).to_have_attribute("data-vote", "not_voted")
        expect(seat12).to_have_class("seat seat-seat seat-vote-not_voted")
        votes = display.locator("[data-testid=seat-view-plan] .seat").evaluate_all("ns => ns.map(n => n.dataset.vote)")
        assert (votes.count("for"), votes.count("not_voted")) == (1, 29)
        # Another live update redraws the plan from the list already loaded: no second fetch.
        assert sec.post(f"/api/attendance/{delegates[25]['id']}/check-out", json={}).status_code == 200
        expect(display.get_by_test_id("view-seat-25")).to_have_attribute("data-state", "absent")
        expect(seat10).to_have_attribute("data-vote", "for")
        assert fetched == [f"{server.base}/api/polls/{poll_id}"]
        shots(display, "seating-view-public-poll")
    finally:
        chair.close()
        voter.close()
        display.context.close()


def test_the_secretary_corrects_and_removes_participants_from_the_list(browser: Any, hall_server: Server, shots: Any) -> None:
    expect = _expect()
    server = hall_server
    people = server.secretary.get("/api/participants").json()["participants"]
    voter = next((p for p in people if p.get("seat") == 10), None)
    polls = server.secretary.get("/api/state").json()["polls"]
    if voter is None or not any(p["status"] == "closed" for p in polls):
        pytest.skip("needs the plan and the poll of the earlier tests")
    guest = server.secretary.post("/api/participants", json={"participants": [{"name": "Khách mời Nhập nhầm", "role": "guest"}]})
    gid = guest.json()["participants"][0]["id"]
    page = pair_page(browser, server, server.secretary_id, {"width": 1440, "height": 1000}, "secretary.html")
    try:
        page.get_by_test_id(f"edit-{gid}").click()
        page.get_by_test_id("participant-edit-name").fill("Khách mời Đúng tên")
        page.get_by_test_id("participant-edit-unit").fill("Sở Tài chính")
        page.get_by_test_id("participant-edit-save").click()
        row = page.locator(f'tr[data-participant="{gid}"]')
        expect(row).to_contain_text("Khách mời Đúng tên")
        expect(row).to_contain_text("Sở Tài chính")
        listed = {p["id"]: p for p in server.secretary.get("/api/participants").json()["participants"]}
        assert (listed[gid]["name"], listed[gid]["unit"], listed[gid]["title"]) == ("Khách mời Đúng tên", "Sở Tài chính", "")

        # A delegate who voted stays; the refusal is shown as the server wrote it.
        page.get_by_test_id(f"remove-{voter['id']}").click()
        page.get_by_test_id("participant-remove-confirm").click()
        expect(page.get_by_test_id("participant-remove-error")).to_have_text(
            f"{voter['name']} đã biểu quyết: không thể xóa khỏi danh sách.")
        shots(page, "secretary-participant-remove-refused")
        page.get_by_test_id("participant-remove-cancel").click()

        page.get_by_test_id(f"remove-{gid}").click()
        page.get_by_test_id("participant-remove-confirm").click()
        expect(row).to_have_count(0)
        assert gid not in {p["id"] for p in server.secretary.get("/api/participants").json()["participants"]}
    finally:
        page.context.close()
