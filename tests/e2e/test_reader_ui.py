"""The document reader on a tablet: search without diacritics, notes, follow me.

Against the shared e2e server (a corpus PDF of 8 pages on item 1): a delegate finds
"ngan sach" and sees the hits marked on the page; pins a note, draws with the pen and
highlights selected words; writes a note while the Wi-Fi is cut and finds it on the box
exactly once when it comes back; the same delegate's second tablet shows the notes, another
delegate's does not; the chair presents page 3 and the delegate follows.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.e2e.conftest import DELEGATES, TABLET, Server, pair_page

pytestmark = pytest.mark.e2e


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _notes(page: Any, doc: str) -> list[dict[str, Any]]:
    """The notes the box holds for this tablet's delegate (asked with its own cookie)."""
    body = page.evaluate(
        "async (doc) => (await fetch('/api/annotations?document=' + doc, {credentials: 'same-origin'})).json()", doc
    )
    return [a for a in body["annotations"] if not a.get("deleted")]


def _chair(server: Server) -> httpx.Client:
    chair = server.by_name(DELEGATES[0]["name"])
    code = server.secretary.post("/api/pairing-codes", json={"participant_id": chair["id"]}).json()["code"]
    token = httpx.post(f"{server.base}/api/pair", json={"code": code}).json()["token"]
    return httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_search_notes_offline_and_follow_me(browser: Any, server: Server, shots: Any) -> None:
    expect = _expect()
    nhung = server.by_name(DELEGATES[1]["name"])
    tablet = pair_page(browser, server, nhung["id"], TABLET, "delegate.html")
    page_img = tablet.get_by_test_id("doc-page")
    expect(page_img).to_be_visible()
    doc = page_img.get_attribute("src").split("/")[3]
    before = len(_notes(tablet, doc))

    # Search without diacritics: "ngan sach" finds "ngân sách" on every page, marked on page 1.
    tablet.get_by_test_id("doc-search").fill("ngan sach")
    tablet.get_by_test_id("doc-search").press("Enter")
    rows = tablet.get_by_test_id("search-hit-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 8
    expect(rows.first).to_contain_text("trang 1")
    expect(tablet.get_by_test_id("search-hit").first).to_be_attached()
    assert tablet.get_by_test_id("search-hit").count() >= 10  # 15 occurrences on page 1
    shots(tablet, "reader-search")
    # The hit on the last page of this document (other tests may add documents with hits too).
    rows.filter(has_text="trang 8").first.click()
    expect(tablet.locator(".page-count")).to_have_text("Trang 8/8")
    tablet.get_by_role("button", name="Đóng kết quả").click()
    tablet.locator(".thumb").nth(1).click()
    expect(tablet.locator(".page-count")).to_have_text("Trang 2/8")

    # A note pinned to a point of page 2.
    tablet.locator('[data-tool="note"]').click()
    frame = tablet.locator(".page-frame")
    expect(tablet.get_by_test_id("text-layer").locator("span").first).to_be_attached()
    frame.click(position={"x": 200, "y": 150})
    tablet.get_by_test_id("note-input").fill("Hỏi lại số liệu thu ngân sách năm 2026")
    tablet.get_by_test_id("note-save").click()
    expect(tablet.locator(".note-layer .note-text")).to_have_count(1)

    # Ink: a stroke with the pen.
    tablet.locator('[data-tool="pen"]').click()
    box = tablet.locator(".doc-stage").bounding_box()  # the visible part of the page
    tablet.mouse.move(box["x"] + 100, box["y"] + 60)
    tablet.mouse.down()
    for step in range(1, 11):
        tablet.mouse.move(box["x"] + 100 + step * 20, box["y"] + 60 + step * 5)
    tablet.mouse.up()
    expect(tablet.locator(".note-layer .note-ink")).to_have_count(1)

    # Highlight: select the first five words of the page.
    tablet.locator('[data-tool="highlight"]').click()
    tablet.evaluate(
        """() => {
            const spans = document.querySelectorAll('[data-testid=text-layer] span');
            const range = document.createRange();
            range.setStart(spans[0].firstChild, 0);
            range.setEnd(spans[4].firstChild, spans[4].firstChild.length);
            const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
            document.querySelector('[data-testid=text-layer]').dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
        }"""
    )
    expect(tablet.locator(".note-layer .note-highlight rect")).to_have_count(5)
    shots(tablet, "reader-notes")

    # Offline: a note written with the Wi-Fi cut waits, then reaches the box exactly once.
    tablet.locator('[data-tool="note"]').click()
    tablet.context.set_offline(True)
    tablet.locator(".page-frame").click(position={"x": 300, "y": 120})
    tablet.get_by_test_id("note-input").fill("Viết khi mất mạng")
    tablet.get_by_test_id("note-save").click()
    tablet.get_by_test_id("notes-toggle").click()
    expect(tablet.get_by_test_id("note-pending")).to_have_count(1)
    shots(tablet, "reader-offline-note")
    tablet.context.set_offline(False)
    tablet.evaluate("window.dispatchEvent(new Event('online'))")
    expect(tablet.get_by_test_id("note-pending")).to_have_count(0, timeout=20_000)
    notes = _notes(tablet, doc)
    assert len(notes) == before + 4
    texts = sorted(n.get("text", "") for n in notes if n["kind"] == "text")
    assert texts.count("Viết khi mất mạng") == 1
    assert "Hỏi lại số liệu thu ngân sách năm 2026" in texts
    assert {n["kind"] for n in notes} == {"text", "ink", "highlight"}

    # Her second tablet shows them; another delegate sees none of them.
    second = pair_page(browser, server, nhung["id"], TABLET, "delegate.html")
    second.locator(".thumb").nth(1).click()
    expect(second.locator(".note-layer .note-text")).to_have_count(2)
    phuong = pair_page(browser, server, server.by_name(DELEGATES[2]["name"])["id"], TABLET, "delegate.html")
    assert _notes(phuong, doc) == []
    phuong.locator(".thumb").nth(1).click()
    expect(phuong.get_by_test_id("doc-page")).to_be_visible()
    expect(phuong.locator(".note-layer .note")).to_have_count(0)

    # Follow me: the chair presents page 3; the delegate follows and lands there.
    with _chair(server) as chair:
        r = chair.post(f"/api/documents/{doc}/present", json={"page": 3})
        assert r.status_code == 200, r.text
        bar = tablet.get_by_test_id("follow-bar")
        expect(bar).to_contain_text("đang trình bày")
        tablet.get_by_test_id("follow-toggle").click()
        expect(tablet.locator(".page-count")).to_have_text("Trang 3/8")
        chair.post(f"/api/documents/{doc}/present", json={"page": 5})
        expect(tablet.locator(".page-count")).to_have_text("Trang 5/8")
        shots(tablet, "reader-follow")
        assert chair.post("/api/documents/present/stop", json={}).status_code == 200
        expect(bar).to_have_count(0)
    for ctx in (tablet.context, second.context, phuong.context):
        ctx.close()
