"""Device trust in real Chromium against the real server with HTTPS on: a tablet pairs
from its QR link and makes its own device key; the technician sees it live with its key,
opens a pairing window, prints seat cards and revokes the tablet, which drops back to the
pairing page with its key and storage wiped; the start page and the hall display show
the same CA fingerprint."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from appliance.web.tls import fingerprint
from tests.e2e.conftest import (
    DELEGATES,
    HALL,
    STAFF,
    TABLET,
    TABLET_PORTRAIT,
    Server,
    _ok,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e

TECHNICIAN = {"name": "Đỗ Minh Kỹ", "role": "technician"}


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Path]]:
    monkeypatch.setenv("PHS_TLS", "on")
    monkeypatch.setenv("PHS_TLS_PORT", str(free_port()))
    port = free_port()
    proc, log_path = launch_server(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        client, secretary_id = pair_secretary(base)
        srv = Server(base=base, secretary=client, secretary_id=secretary_id, log_path=log_path)
        _ok(
            client.post(
                "/api/setup", json={"body": "HĐND phường Ba Đình", "session": "Kỳ họp thứ nhất"}
            )
        )
        rows = _ok(
            client.post(
                "/api/participants", json={"participants": [*DELEGATES, *STAFF, TECHNICIAN]}
            )
        )["participants"]
        srv.participants = {p["name"]: p for p in rows}
        yield srv, tmp_path / "data" / "tls" / "ca.pem"
        client.close()
    finally:
        stop_server(proc)


def _has_device_db(page: Any) -> bool:
    return bool(
        page.evaluate(
            "async () => (await indexedDB.databases()).some((d) => d.name === 'phs-device')"
        )
    )


def test_technician_sees_the_keyed_tablet_and_revokes_it(
    browser: Any, tls_server: tuple[Server, Path], shots: Any
) -> None:
    server, ca_path = tls_server
    ca_fp = fingerprint(x509.load_pem_x509_certificate(ca_path.read_bytes()))
    tablet = pair_page(
        browser,
        server,
        server.by_name("Trần Thị Hồng Nhung")["id"],
        TABLET,
        "delegate.html",
        via_qr=True,
    )
    assert tablet.locator("#me-name").inner_text() == "Trần Thị Hồng Nhung"
    assert _has_device_db(tablet)  # the key WebCrypto made, kept only on this tablet

    tech = pair_page(
        browser, server, server.by_name(TECHNICIAN["name"])["id"], TABLET, "secretary.html"
    )
    panel = tech.get_by_test_id("trust-devices")
    row = panel.locator("tr", has_text="Trần Thị Hồng Nhung")
    row.wait_for()
    tech.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=trust-table] tr')].some((r) => r.innerText.includes('Hồng Nhung') && r.innerText.includes('Trực tuyến'))"
    )
    cells = row.locator("td").all_inner_texts()
    assert (
        cells[0] == "2"
        and cells[3].strip() == "Trực tuyến"
        and cells[4] == "Có"
        and cells[5] == "0"
    )
    assert ca_fp in panel.inner_text()

    tech.get_by_test_id("open-window").click()
    tech.wait_for_function(
        "() => document.querySelector('[data-testid=pairing-window]').dataset.open === 'true'"
    )
    line = tech.get_by_test_id("pairing-window").inner_text()
    assert re.fullmatch(
        r"Đang mở ghép nối bằng thẻ chỗ ngồi — còn (10 phút 0|9 phút \d+) giây", line
    ), line
    shots(tech, "trust-technician-panel")

    tech.get_by_test_id("print-cards").click()
    tech.locator(".seat-card").first.wait_for(state="attached")
    tech.emulate_media(media="print")
    names = tech.locator(".seat-card-name").all_inner_texts()
    assert names == [
        "Màn hình hội trường chính",
        TECHNICIAN["name"],
    ]  # a technician prints only staff cards
    shots(tech, "trust-seat-cards-print", full_page=True)
    tech.emulate_media(media="screen")
    tech.evaluate("() => document.body.classList.remove('printing-cards')")

    revoke = row.get_by_role("button")
    revoke.click()
    assert revoke.inner_text() == "Nhấn lần nữa để thu hồi"
    revoke.click()
    # The live channel told it at once: the tablet is on its way to index.html (the pairing
    # page). "commit", not "load": a request refused as revoked at the same moment sends it
    # there too, and the second navigation aborts the first's load (net::ERR_FAILED, seen on a
    # loaded CI) while the tablet still ends where it should.
    tablet.wait_for_url("**/ui/index.html", timeout=5000, wait_until="commit")
    tablet.wait_for_function(
        "async () => !(await indexedDB.databases()).some((d) => d.name === 'phs-device')",
        timeout=30_000,  # deleting the database waits for the page's own connections to close: 15 s was not enough beside a TCG image boot
    )
    assert tablet.evaluate("async () => (await fetch('/api/me')).status") == 401
    tech.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=trust-table] tr')].some((r) => r.innerText.includes('Hồng Nhung') && r.innerText.includes('Đã thu hồi'))"
    )
    shots(tech, "trust-technician-revoked")

    start = tablet.context.new_page()
    start.set_viewport_size(TABLET_PORTRAIT)
    start.goto(f"{server.base}/ui/pair.html")
    start.wait_for_function(
        "() => document.getElementById('ca-fingerprint').textContent.includes(':')"
    )
    assert start.locator("#ca-fingerprint").inner_text() == ca_fp
    assert (
        start.locator("#secure-link").get_attribute("href")
        == f"https://127.0.0.1:{_tls_port()}/ui/"
    )
    shots(start, "trust-start-page-portrait", full_page=True)

    display = pair_page(
        browser, server, server.by_name("Màn hình hội trường chính")["id"], HALL, "display.html"
    )
    display.get_by_test_id("display-ca").wait_for()
    assert ca_fp in display.get_by_test_id("display-ca").inner_text()
    shots(display, "trust-display-fingerprint")
    for page in (tablet, tech, display):
        page.context.close()


def _tls_port() -> str:
    import os

    return os.environ["PHS_TLS_PORT"]


def test_delegate_types_the_pin_before_voting(
    browser: Any, tls_server: tuple[Server, Path], shots: Any
) -> None:
    from playwright.sync_api import expect

    server, _ = tls_server
    c = server.secretary
    nhung = server.by_name("Trần Thị Hồng Nhung")["id"]
    chair_id = server.by_name("Nguyễn Văn Thắng")["id"]
    _ok(c.post(f"/api/attendance/{nhung}/pin", json={"pin": "2468"}))
    _ok(c.post("/api/pairing/vote-pin-rule", json={"required": True}))
    code = _ok(c.post("/api/pairing-codes", json={"participant_id": chair_id}))["code"]
    chair = {"Authorization": f"Bearer {_ok(c.post('/api/pair', json={'code': code}))['token']}"}
    _ok(c.post("/api/sitting/open", json={}, headers=chair))
    for p in DELEGATES:
        _ok(c.post(f"/api/attendance/{server.by_name(p['name'])['id']}/check-in", json={}))
    tab = pair_page(browser, server, nhung, TABLET, "delegate.html")
    poll = _ok(
        c.post("/api/polls", json={"question": "Tán thành dự toán ngân sách?"}, headers=chair)
    )["poll"]["id"]

    pad = tab.get_by_test_id("vote-pin")
    expect(pad).to_be_visible(timeout=5000)
    expect(pad.locator("h2")).to_have_text("Nhập mã PIN để biểu quyết")
    pad.locator("#vote-pin").fill("1357")
    pad.get_by_role("button").click()
    expect(pad.locator(".form-error")).to_have_text("Mã PIN không đúng.")
    shots(tab, "trust-vote-pin-pad")
    pad.locator("#vote-pin").fill("2468")
    pad.get_by_role("button").click()
    expect(pad).to_have_count(0)
    tab.locator('.vote-btn[data-answer="for"]').click()
    tab.get_by_test_id("confirm-vote").click()
    expect(tab.get_by_test_id("vote-done")).to_have_text(re.compile(r"Đã biểu quyết: Tán thành$"))
    assert _ok(c.get(f"/api/polls/{poll}"))["poll"]["voted"] == 1
    tab.context.close()
