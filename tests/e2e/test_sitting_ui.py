"""A whole vote through the browser screens, against the real server.

The chair opens the sitting and a poll on the console; three delegates check in and
vote from three separate tablets (for, for, against); the hall display follows live,
without a reload, and ends on the result card with the exact counts, shares against
the stated base, and the verdict in words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    CORPUS,
    DELEGATES,
    HALL,
    TABLET,
    TABLET_PORTRAIT,
    Server,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e

QUESTION = "Tán thành thông qua Nghị quyết về dự toán ngân sách phường năm 2026?"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_wrong_pairing_code_shows_the_servers_message(browser: Any, server: Server) -> None:
    expect = _expect()
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(f"{server.base}/ui")  # without the slash too
    page.locator("#code").fill("000001")
    page.locator("#pair-submit").click()
    expect(page.locator("#pair-error")).to_have_text("Mã ghép nối sai, đã hết hạn hoặc đã được dùng.")
    page.locator("[data-lang-toggle]").click()
    expect(page.locator("#pair-title, h1")).to_have_text("Pair this device")
    context.close()


def test_chair_opens_poll_delegates_vote_display_shows_result(browser: Any, server: Server, shots: Any) -> None:
    expect = _expect()
    chair_p, d2, d3, d4 = (server.by_name(d["name"]) for d in DELEGATES)
    display_p = server.by_name("Màn hình hội trường chính")

    # Every screen pairs itself through the pairing page and lands on its role's screen.
    display = pair_page(browser, server, display_p["id"], HALL, "display.html")
    chair = pair_page(browser, server, chair_p["id"], TABLET, "chair.html")
    tablets = [
        pair_page(browser, server, d2["id"], TABLET, "delegate.html"),
        pair_page(browser, server, d3["id"], TABLET_PORTRAIT, "delegate.html"),
        pair_page(browser, server, d4["id"], TABLET, "delegate.html"),
    ]
    secretary = pair_page(browser, server, server.secretary_id, TABLET, "secretary.html", via_qr=True)
    display.evaluate("window.__phsNoReload = 'still here'")

    # Before the sitting opens a delegate cannot check in: the button waits, greyed out.
    expect(tablets[0].locator("#check-in")).to_be_disabled()

    # The chair opens the sitting (a second tap confirms the box's date and time).
    opener = chair.locator("#sitting-toggle")
    expect(opener).to_have_text("Khai mạc phiên họp")
    opener.click()
    opener.click()
    expect(chair.locator("#sitting-status")).to_have_text("Đang họp")
    expect(display.locator("#sitting-status")).to_have_text("Đang họp")

    chair.locator('button[data-item="1"]').click()
    expect(display.get_by_test_id("current-item")).to_have_text(
        "Thông qua Nghị quyết về dự toán ngân sách phường năm 2026")
    expect(tablets[0].locator(".agenda-item.current")).to_contain_text("Thông qua Nghị quyết về dự toán")

    # Three delegates check in from their tablets: 3 of 4 present is a quorum.
    for tab in tablets:
        expect(tab.locator("#check-in")).to_be_enabled()
        tab.locator("#check-in").click()
        expect(tab.locator("#check-in")).to_have_text("✓ Đã điểm danh")
    expect(chair.get_by_test_id("present")).to_have_text("3")
    expect(chair.get_by_test_id("quorum")).to_contain_text("Đủ số đại biểu để tiến hành")
    expect(display.get_by_test_id("attendance")).to_contain_text("3/4")

    # The chair opens a public poll with the default answers and the total-base rule.
    chair.locator("#poll-question").fill(QUESTION)
    expect(chair.locator("#poll-rule")).to_have_value("more_than_half_of_total")
    chair.get_by_test_id("open-poll").click()
    expect(display.get_by_test_id("display-poll")).to_contain_text(QUESTION)
    expect(display.get_by_test_id("poll-progress")).to_contain_text("Đã biểu quyết: 0/4")

    # The first delegate's ballot screen, before and at the confirmation step.
    first = tablets[0]
    expect(first.get_by_test_id("vote-question")).to_have_text(QUESTION)
    expect(first.locator(".vote-btn")).to_have_text(["Tán thành", "Không tán thành", "Không biểu quyết"])
    shots(first, "delegate-ballot")

    for tab, answer, label in zip(tablets, ["for", "for", "against"], ["Tán thành", "Tán thành", "Không tán thành"], strict=True):
        tab.locator(f'.vote-btn[data-answer="{answer}"]').click()
        expect(tab.locator(".vote-choice")).to_have_text(f"Bạn chọn: {label}")
        if tab is first:
            shots(tab, "delegate-confirm")
        tab.get_by_test_id("confirm-vote").click()
        expect(tab.get_by_test_id("vote-done")).to_have_text(re.compile(rf"Đã biểu quyết: {label}$"))
        assert "null" not in tab.get_by_test_id("vote-panel").inner_text()  # no empty part printed as text

    # Live progress on the display and the console: never partial results.
    expect(display.get_by_test_id("poll-progress")).to_contain_text("Đã biểu quyết: 3/4")
    expect(display.get_by_test_id("result-card")).to_have_count(0)
    expect(chair.get_by_test_id("poll-progress")).to_contain_text("Đã biểu quyết: 3/4")
    shots(display, "display-voting")
    shots(chair, "chair-voting")

    closer = chair.get_by_test_id("close-poll")
    closer.click()
    expect(closer).to_have_text("Kết thúc biểu quyết? Kết quả sẽ được chốt.")
    closer.click()

    # The display shows the final counts and the chart without a reload.
    card = display.get_by_test_id("result-card")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("count-for")).to_have_text("2")
    expect(card.get_by_test_id("count-against")).to_have_text("1")
    expect(card.get_by_test_id("count-abstain")).to_have_text("0")
    expect(card.get_by_test_id("count-not_voted")).to_have_text("1")
    expect(card.get_by_test_id("share-for")).to_have_text("50,0 %")
    expect(card.get_by_test_id("share-against")).to_have_text("25,0 %")
    expect(card.get_by_test_id("share-abstain")).to_have_text("0,0 %")
    expect(card.get_by_test_id("share-not_voted")).to_have_text("25,0 %")
    expect(card.locator('.result-row[data-answer="for"] .result-label')).to_have_text("Tán thành")
    expect(card.get_by_test_id("result-base")).to_have_text("trên tổng số 4 đại biểu")
    # 2 of 4 is not more than half of all delegates.
    expect(card.get_by_test_id("verdict")).to_have_text("Không thông qua")
    expect(card.locator(".result-row .bar-fill")).to_have_count(4)
    assert display.evaluate("window.__phsNoReload") == "still here"

    # The same numbers on the console and on every tablet.
    chair_card = chair.get_by_test_id("result-card")
    expect(chair_card.get_by_test_id("count-for")).to_have_text("2")
    expect(chair_card.get_by_test_id("verdict")).to_have_text("Không thông qua")
    for tab in tablets:
        expect(tab.get_by_test_id("result-card").get_by_test_id("share-for")).to_have_text("50,0 %")

    shots(display, "display-result")
    shots(chair, "chair-result")
    shots(tablets[1], "delegate-result-portrait")
    shots(tablets[0], "delegate-result")

    # The delegates close the result; one reads the item's document pages.
    for tab in tablets:
        tab.get_by_role("button", name="Đóng").click()
    expect(tablets[0].get_by_test_id("doc-page")).to_be_visible()
    tablets[0].locator(".thumb").nth(1).click()
    expect(tablets[0].locator(".page-count")).to_have_text(re.compile(r"^Trang 2/\d+$"))
    shots(tablets[0], "delegate-documents")

    # The floor: two requests, rebuttals first; the chair gives the floor to the next.
    tablets[1].get_by_role("button", name="Đăng ký phát biểu").click()
    expect(tablets[1].get_by_test_id("queue-position")).to_have_text("Bạn đang ở vị trí thứ 1 trong danh sách chờ")
    tablets[2].get_by_role("button", name="Đăng ký tranh luận").click()
    expect(tablets[1].get_by_test_id("queue-position")).to_have_text("Bạn đang ở vị trí thứ 2 trong danh sách chờ")
    expect(display.locator("#queue li")).to_have_count(2)
    expect(chair.locator(".queue-name")).to_have_text([d4["name"], d3["name"]])
    chair.get_by_role("button", name="Mời người tiếp theo").click()
    expect(tablets[2].locator(".floor-status.speaking")).to_have_text("Bạn đang phát biểu")
    expect(display.locator(".display-speaker-name")).to_have_text(d4["name"])
    expect(display.locator(".display-timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(tablets[1].get_by_test_id("queue-position")).to_have_text("Bạn đang ở vị trí thứ 1 trong danh sách chờ")
    shots(display, "display-floor")
    shots(chair, "chair-floor")
    shots(tablets[1], "delegate-portrait-queued")
    # The secretary uploads: a file that is not a document is refused with the server's
    # message; a real PDF lands on item 2 and every screen learns of it.
    secretary.locator("#u-item").select_option("2")
    secretary.locator("#u-file").set_input_files(
        files=[{"name": "khong-phai-tai-lieu.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all"}])
    secretary.locator("#upload-form button[type=submit]").click()
    expect(secretary.locator("#upload-error")).to_be_visible()
    expect(secretary.locator("#upload-error")).not_to_be_empty()
    shots(secretary, "secretary-upload-error")
    pdf = CORPUS / "quyet-dinh-hdnd-thanh-hoa-draft.pdf"
    if pdf.exists():
        secretary.locator("#u-file").set_input_files(str(pdf))
        secretary.locator("#upload-form button[type=submit]").click()
        expect(secretary.locator("#upload-ok")).to_contain_text("Đã tải lên:", timeout=60000)
        expect(secretary.locator("#upload-error")).to_be_hidden()
        expect(tablets[0].locator(".agenda-item").nth(1)).to_contain_text("1 tài liệu")
    shots(secretary, "secretary")
    secretary.get_by_test_id(f"issue-{d2['id']}").click()
    expect(secretary.get_by_test_id("pairing-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    expect(secretary.locator(".qr-svg")).to_be_visible()
    shots(secretary, "secretary-pairing-code")

    # Portrait tablets: the console and the desk reflow into one column.
    for page, name in [(chair, "chair-portrait"), (secretary, "secretary-portrait")]:
        page.get_by_test_id("close-code").click() if page is secretary else None
        page.set_viewport_size(TABLET_PORTRAIT)
        shots(page, name)

    # English on demand, with the same numbers.
    display.evaluate("localStorage.setItem('phs.lang', 'en')")
    display.reload()
    card = display.get_by_test_id("result-card")
    expect(card.get_by_test_id("verdict")).to_have_text("Not passed")
    expect(card.get_by_test_id("share-for")).to_have_text("50.0 %")
    expect(card.get_by_test_id("result-base")).to_have_text("out of all 4 delegates")
    shots(display, "display-result-en")

    for page in [display, chair, secretary, *tablets]:
        page.context.close()


def test_screen_catches_up_after_the_server_restarts(browser: Any, tmp_path: Path) -> None:
    """The box restarts (supervisord, a power cut): screens reconnect, resume, and catch up."""
    expect = _expect()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, _ = launch_server(tmp_path, port)
    try:
        client, _secretary_id = pair_secretary(base)
        assert client.post("/api/setup", json={"body": "HĐND xã Tân Lập", "session": "Kỳ họp chuyên đề",
                                               "sittings": ["Phiên họp thứ nhất"], "rehearsal": True}).status_code == 200
        rows = client.post("/api/participants", json={"participants": [
            {"name": "Hoàng Thị Mai", "role": "chair", "seat": 1},
            {"name": "Đinh Văn Lộc", "role": "delegate", "seat": 2},
            {"name": "Vũ Thị Thu", "role": "delegate", "seat": 3}]}).json()["participants"]
        srv = Server(base=base, secretary=client, participants={p["name"]: p for p in rows})
        page = pair_page(browser, srv, rows[0]["id"], TABLET, "chair.html")
        expect(page.locator("#rehearsal")).to_have_text("TẬP HUẤN")
        expect(page.locator("#agenda")).to_contain_text("Chưa có nội dung nào trong chương trình.")

        stop_server(proc)
        expect(page.locator("#conn")).to_be_visible()  # the drop is shown, not hidden
        proc, _ = launch_server(tmp_path, port)
        title = "Chất vấn và trả lời chất vấn"
        r = client.post("/api/agenda", json={"title": title})
        assert r.status_code == 200, r.text
        # The live channel reconnects on its own, resumes, and the console shows the new item.
        expect(page.locator("#agenda")).to_contain_text(title, timeout=20000)
        expect(page.locator("#conn")).to_be_hidden()
        page.context.close()
        client.close()
    finally:
        stop_server(proc)
