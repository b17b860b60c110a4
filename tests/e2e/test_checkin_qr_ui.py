"""QR check-in cards read without BarcodeDetector (iPad Safari): the vendored jsQR decoder
in real Chromium (web_ui/checkin_qr.js, issue 5).

The entrance tablet is the secretary's device on /ui/checkin.html. ``BarcodeDetector`` is
removed before the page loads, as on an iPad, so the page decodes with jsQR on a canvas
copy of the frame. Two real cards: the QR the box prints (the card route's SVG), and the
same kind of card as a camera sees it — a PNG made with segno, turned and on a grey desk.
Each decoded code goes through the page's own check-in and the delegate is present.
Its own server: checking delegates in would change the shared server's quorum.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import segno
from PIL import Image, ImageFilter

from tests.e2e.conftest import DELEGATES, TABLET, Server, _ok, own_server, pair_page

pytestmark = pytest.mark.e2e
NO_BARCODE_DETECTOR = "delete window.BarcodeDetector;"  # an iPad: Safari has none


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def entrance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with own_server(tmp_path_factory.mktemp("phs-checkin"), "HĐND phường Ba Đình", "Kỳ họp thứ nhất") as srv:
        chair = srv.participants[DELEGATES[0]["name"]]["id"]
        chair_code = _ok(srv.secretary.post("/api/pairing-codes", json={"participant_id": chair}))["code"]
        chair_token = _ok(httpx.post(f"{srv.base}/api/pair", json={"code": chair_code}))["token"]
        _ok(httpx.post(f"{srv.base}/api/sitting/open", json={}, headers={"Authorization": f"Bearer {chair_token}"}))
        yield srv


def camera_frame(text: str) -> bytes:
    """A card's QR as a tablet camera sees it: 640×480, turned 7°, slightly soft, on grey."""
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=6, border=4)
    card = Image.open(io.BytesIO(buf.getvalue())).convert("L").rotate(7, expand=True, fillcolor=255)
    frame = Image.new("L", (640, 480), 150)
    frame.paste(card, ((640 - card.width) // 2, (480 - card.height) // 2))
    out = io.BytesIO()
    frame.filter(ImageFilter.GaussianBlur(0.8)).save(out, format="PNG")
    return out.getvalue()


READ = """async (src) => {
  const img = document.createElement("img");
  img.src = src;
  await img.decode();
  const qr = await import("/ui/checkin_qr.js");
  const page = await import("/ui/checkin.js");
  const decoded = await qr.decodeWithJsQR(img);
  const checkedIn = await page.readFrame(img);
  return { kind: await qr.decoderKind(), jsqr: typeof window.jsQR, decoded, checkedIn };
}"""


def test_headless_chromium_and_barcode_detector(browser: Any, entrance: Server) -> None:
    """A record of the machine, not a requirement: Chromium on Linux ships no BarcodeDetector."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{entrance.base}/ui/pair.html")
    has = page.evaluate("'BarcodeDetector' in window")
    print(f"headless Chromium BarcodeDetector: {has}")
    assert has is False
    context.close()


def test_a_card_read_by_jsqr_checks_the_delegate_in(browser: Any, entrance: Server, shots: Any, tmp_path: Path) -> None:
    expect = _expect()
    srv, sec = entrance, entrance.secretary
    _chair, d2, d3, _d4 = (srv.by_name(d["name"]) for d in DELEGATES)
    tablet = pair_page(browser, srv, srv.secretary_id, TABLET, "secretary.html")
    tablet.context.add_init_script(NO_BARCODE_DETECTOR)
    frames: dict[str, bytes] = {}
    tablet.route(f"{srv.base}/test-frames/*", lambda route: route.fulfill(
        status=200, content_type="image/png", body=frames[route.request.url.rsplit("/", 1)[1]]))
    try:
        tablet.goto(f"{srv.base}/ui/checkin.html")
        expect(tablet.get_by_test_id("card-code")).to_be_visible()
        assert tablet.evaluate("'BarcodeDetector' in window") is False
        assert tablet.evaluate("typeof window.jsQR") == "undefined"  # loaded only when needed
        cards = {c["participant_id"]: c for c in _ok(sec.get("/api/attendance/cards"))["cards"]}

        # The card as a camera sees it (segno PNG, turned, soft): decoded by jsQR, d2 checked in.
        card = cards[d2["id"]]
        frames["d2.png"] = camera_frame(card["code"])
        (tmp_path / "card-frame.png").write_bytes(frames["d2.png"])
        got = tablet.evaluate(READ, f"{srv.base}/test-frames/d2.png")
        assert got == {"kind": "jsqr", "jsqr": "function", "decoded": [card["code"]], "checkedIn": [card["code"]]}
        expect(tablet.get_by_test_id("checkin-ok")).to_have_text("Đã điểm danh: Trần Thị Hồng Nhung (ghế 2)")
        attendance = _ok(sec.get("/api/state"))["attendance"]
        assert (attendance["present"], attendance["present_ids"]) == (1, [d2["id"]])
        shots(tablet, "checkin-jsqr")

        # The QR exactly as the box prints it (the card route's SVG).
        card = cards[d3["id"]]
        got = tablet.evaluate(READ, "data:image/svg+xml," + quote(card["qr_svg"]))
        assert got == {"kind": "jsqr", "jsqr": "function", "decoded": [card["code"]], "checkedIn": [card["code"]]}
        expect(tablet.get_by_test_id("checkin-ok")).to_have_text("Đã điểm danh: Lê Đức Phương (ghế 3)")
        attendance = _ok(sec.get("/api/state"))["attendance"]
        assert (attendance["present"], attendance["present_ids"]) == (2, [d2["id"], d3["id"]])

        # A frame with no card in it reads nothing and checks nobody in.
        frames["empty.png"] = _grey_frame()
        got = tablet.evaluate(READ, f"{srv.base}/test-frames/empty.png")
        assert (got["decoded"], got["checkedIn"]) == ([], [])
        assert _ok(sec.get("/api/state"))["attendance"]["present"] == 2
    finally:
        tablet.context.close()


def _grey_frame() -> bytes:
    out = io.BytesIO()
    Image.new("L", (640, 480), 150).save(out, format="PNG")
    return out.getvalue()
