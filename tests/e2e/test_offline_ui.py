"""A delegate keeps reading through a Wi-Fi drop; a closed sitting leaves no page behind.

Its own server (the shared e2e one must not see its sitting closed): a corpus PDF of 8
pages on item 1. The tablet's service worker holds every page at both sizes once the
delegate screen is up; with the browser cut off from the network the delegate turns to a
page never shown before and it appears; when the chair closes the sitting the tablet's
cache is emptied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pymupdf
import pytest

from tests.e2e.conftest import (
    CORPUS,
    TABLET,
    Server,
    _prepare_sitting,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e

PDF = CORPUS / "nghi-quyet-hdnd-hanoi-11-2025.pdf"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not PDF.exists():
        pytest.skip(f"{PDF} is absent")
    tmp = tmp_path_factory.mktemp("phs-offline")
    port = free_port()
    proc, log_path = launch_server(tmp, port)
    try:
        client, secretary_id = pair_secretary(f"http://127.0.0.1:{port}")
        srv = Server(base=f"http://127.0.0.1:{port}", secretary=client, secretary_id=secretary_id, log_path=log_path)
        _prepare_sitting(srv)
        yield srv
        client.close()
    finally:
        stop_server(proc)


def _chair(srv: Server) -> httpx.Client:
    chair = next(p for p in srv.participants.values() if p["role"] == "chair")
    code = srv.secretary.post("/api/pairing-codes", json={"participant_id": chair["id"]}).json()["code"]
    token = httpx.post(f"{srv.base}/api/pair", json={"code": code}).json()["token"]
    return httpx.Client(base_url=srv.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _held(page: Any) -> list[str]:
    """What the tablet's page cache holds, as the page itself sees it."""
    return list(
        page.evaluate(
            """async () => {
                const out = [];
                for (const name of await caches.keys()) {
                    if (!name.startsWith('phs-pages')) continue;
                    for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname + new URL(req.url).search);
                }
                return out.sort();
            }"""
        )
    )


def test_reading_continues_offline_and_a_closed_sitting_wipes_the_tablet(
    browser: Any, hall: Server, shots: Any
) -> None:
    from playwright.sync_api import expect

    with pymupdf.open(PDF) as doc:
        pages = doc.page_count
    assert pages == 8
    delegate = next(p for p in hall.participants.values() if p["role"] == "delegate")
    tablet = pair_page(browser, hall, delegate["id"], TABLET, "delegate.html")

    # The service worker holds every page of the item's document at tablet and thumb size.
    expect(tablet.locator("html")).to_have_attribute("data-offline-pages", str(2 * pages), timeout=30_000)
    held = _held(tablet)
    doc_id = tablet.locator('[data-testid="doc-page"]').get_attribute("src").split("/")[3]
    assert held == sorted(
        f"/api/documents/{doc_id}/pages/{n}?size={size}" for n in range(1, pages + 1) for size in ("tablet", "thumb")
    )

    # Wi-Fi gone: the delegate goes to page 6, never displayed before, and it is there.
    tablet.context.set_offline(True)
    tablet.locator(".page-input").fill("6")
    tablet.locator(".go-form button").click()
    image = tablet.locator('[data-testid="doc-page"]')
    expect(image).to_have_attribute("src", f"/api/documents/{doc_id}/pages/6?size=tablet")
    tablet.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=doc-page]'); return i.complete && i.naturalWidth > 600; }"
    )
    expect(tablet.locator(".page-count")).to_have_text("Trang 6/8")
    shots(tablet, "offline-reading-page-6")
    # Still offline, she pins a note on that page: it waits on the tablet...
    tablet.locator('[data-tool="note"]').click()
    tablet.locator(".page-frame").click(position={"x": 260, "y": 160})
    tablet.get_by_test_id("note-input").fill("Ghi chú trang 6 khi mất mạng")
    tablet.get_by_test_id("note-save").click()
    tablet.get_by_test_id("notes-toggle").click()
    expect(tablet.get_by_test_id("note-pending")).to_have_count(1)
    shots(tablet, "offline-note-page-6")
    tablet.context.set_offline(False)
    tablet.evaluate("window.dispatchEvent(new Event('online'))")
    # ...and reaches the box exactly once when the Wi-Fi is back.
    expect(tablet.get_by_test_id("note-pending")).to_have_count(0, timeout=20_000)
    held_notes = tablet.evaluate(
        "async (doc) => (await fetch('/api/annotations?document=' + doc, {credentials: 'same-origin'})).json()", doc_id
    )["annotations"]
    assert [(n["page"], n["text"]) for n in held_notes if not n.get("deleted")] == [(6, "Ghi chú trang 6 khi mất mạng")]

    # The chair closes the sitting: the tablet's copy of every page goes.
    with _chair(hall) as chair:
        assert chair.post("/api/sitting/open", json={}).status_code == 200
        assert chair.post("/api/sitting/close", json={}).status_code == 200
    expect(tablet.locator("html")).to_have_attribute("data-offline-pages", "0", timeout=15_000)
    assert _held(tablet) == []
    tablet.context.close()


def test_the_service_worker_is_served_as_javascript_from_the_ui_scope(hall: Server) -> None:
    r = httpx.get(f"{hall.base}/ui/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(("text/javascript", "application/javascript"))

