"""The floor in real Chromium against the real server and the real `phs devices` process.

Delegates ask for the floor from their tablets; the chair's panel shows the queue
(rebuttals first), moves a request, grants, extends and changes the microphone mode;
the speaker's tablet and the hall display count the speech down, warn before the end
and show the overrun; the technician's page lists the simulated delegate units with
the microphone the chair just opened. The module runs its own server, so the shared
sitting of the other e2e tests is left alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    HALL,
    REPO,
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

PEOPLE = [
    {"name": "Nguyễn Văn Thắng", "role": "chair", "seat": 1, "title": "Chủ tịch HĐND phường"},
    {"name": "Trần Thị Hồng Nhung", "role": "delegate", "seat": 2, "title": "Đại biểu"},
    {"name": "Lê Đức Phương", "role": "delegate", "seat": 3, "title": "Đại biểu"},
    {"name": "Phạm Thị Ánh Tuyết", "role": "delegate", "seat": 4, "title": "Đại biểu"},
    {"name": "Màn hình hội trường chính", "role": "display"},
    {"name": "Vũ Minh Kỹ", "role": "technician"},
]


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    """Our own server with one agenda item, and `phs devices` with four simulated units."""
    tmp = tmp_path_factory.mktemp("phs-floor")
    port = free_port()
    proc, log_path = launch_server(tmp, port)
    devices: subprocess.Popen[bytes] | None = None
    try:
        client, secretary_id = pair_secretary(f"http://127.0.0.1:{port}")
        srv = Server(base=f"http://127.0.0.1:{port}", secretary=client, secretary_id=secretary_id, log_path=log_path)
        assert client.post("/api/setup", json={"body": "HĐND phường Ba Đình", "session": "Kỳ họp thứ nhất",
                                                "sittings": ["Phiên họp thứ nhất"]}).status_code == 200
        rows = client.post("/api/participants", json={"participants": PEOPLE}).json()["participants"]
        srv.participants = {p["name"]: p for p in rows}
        assert client.post("/api/agenda", json={"title": "Thảo luận dự thảo Nghị quyết về đầu tư công"}).status_code == 200
        env = {**os.environ, "PYTHONPATH": str(REPO), "PHS_PORT": str(port), "PHS_CONFERENCE": "simulated"}
        devices = subprocess.Popen(
            [sys.executable, "-m", "appliance.devices.program", "--data", str(tmp / "data"), "--seats", "4"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "devices.log").open("wb"),
        )
        yield srv, tmp
        client.close()
    finally:
        if devices is not None:
            devices.terminate()
            devices.wait(timeout=10)
        stop_server(proc)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def call(page: Any, path: str, body: dict[str, Any]) -> int:
    """A POST with the page's own credential (what the screen's code would send)."""
    status: int = page.evaluate(
        """async ([path, body]) => {
             const api = await import("/ui/api.js");
             try { await api.post(path, body); return 200; } catch (err) { return err.status; }
           }""", [path, body])
    return status


def test_chair_panel_countdowns_and_technician_page(browser: Any, hall: tuple[Server, Path], shots: Any) -> None:
    expect = _expect()
    server, _ = hall
    chair_p, nhung, phuong, tuyet = (server.by_name(p["name"]) for p in PEOPLE[:4])
    display = pair_page(browser, server, server.by_name("Màn hình hội trường chính")["id"], HALL, "display.html")
    chair = pair_page(browser, server, chair_p["id"], TABLET, "chair.html")
    a = pair_page(browser, server, nhung["id"], TABLET, "delegate.html")
    b = pair_page(browser, server, phuong["id"], TABLET_PORTRAIT, "delegate.html")
    c = pair_page(browser, server, tuyet["id"], TABLET, "delegate.html")
    tech = pair_page(browser, server, server.by_name("Vũ Minh Kỹ")["id"], TABLET, "secretary.html")
    pages = (display, chair, a, b, c, tech)
    try:
        opener = chair.locator("#sitting-toggle")
        opener.click()
        opener.click()
        expect(chair.locator("#sitting-status")).to_have_text("Đang họp")
        chair.locator('button[data-item="1"]').click()
        # Short allowances so the warning and the overrun show within the test: 6 s, warn at 4 s left.
        assert call(chair, "/api/floor/limits", {"limits": {"speak": 6, "rebuttal": 6}, "warn_s": 4}) == 200

        # Two requests and a rebuttal: the rebuttal goes first, then the chair moves Tuyết up.
        a.get_by_role("button", name="Đăng ký phát biểu").click()
        c.get_by_role("button", name="Đăng ký phát biểu").click()
        b.get_by_role("button", name="Đăng ký tranh luận").click()
        expect(chair.locator(".queue-name")).to_have_text([phuong["name"], nhung["name"], tuyet["name"]])
        expect(chair.get_by_test_id(f"up-{phuong['id']}")).to_be_disabled()  # first of its kind
        chair.get_by_test_id(f"up-{tuyet['id']}").click()
        expect(chair.locator(".queue-name")).to_have_text([phuong["name"], tuyet["name"], nhung["name"]])
        expect(display.locator("#queue li")).to_have_text([re.compile(phuong["name"]), tuyet["name"], nhung["name"]])
        expect(a.get_by_test_id("queue-position")).to_have_text("Bạn đang ở vị trí thứ 3 trong danh sách chờ")
        shots(chair, "floor-chair-queue")

        # The grant: Phương's tablet and the display count 6 s down, warn, then show the overrun.
        chair.get_by_test_id("grant-next").click()
        mine = b.get_by_test_id(f"countdown-{phuong['id']}")
        big = display.get_by_test_id(f"speaker-card-{phuong['id']}").locator(".floor-countdown")
        expect(b.get_by_test_id("my-countdown")).to_be_visible()
        expect(display.get_by_test_id(f"speaker-card-{phuong['id']}")).to_contain_text(phuong["name"])
        expect(display.get_by_test_id(f"speaker-card-{phuong['id']}")).to_contain_text("Ghế 3")
        expect(big).to_have_class(re.compile(r"\bwarn\b"), timeout=5000)
        expect(mine).to_have_class(re.compile(r"\bwarn\b"))
        expect(big).to_have_class(re.compile(r"\bover\b"), timeout=8000)
        expect(big).to_have_text(re.compile(r"^−00:0\d$"))
        expect(chair.get_by_test_id(f"countdown-{phuong['id']}")).to_have_class(re.compile(r"\bover\b"))
        shots(display, "floor-display-overrun")
        shots(b, "floor-speaker-tablet-portrait")

        # The technician sees the simulated units, Phương's seat with its microphone open.
        expect(tech.get_by_test_id("tech-devices")).to_be_visible()
        expect(tech.get_by_test_id("units-online")).to_contain_text("4/4 thiết bị trực tuyến", timeout=15_000)
        expect(tech.get_by_test_id("unit-3")).to_contain_text("Đỏ (đang nói)", timeout=10_000)
        expect(tech.get_by_test_id("unit-3")).to_contain_text("Mở")
        expect(tech.get_by_test_id("unit-4")).to_contain_text("Xanh (chờ)")
        expect(tech.get_by_test_id("unit-1")).to_contain_text("Tắt")
        shots(tech, "floor-technician-units")

        # One more minute: back under the allowance on every screen.
        chair.get_by_test_id(f"extend-{phuong['id']}").click()
        expect(big).to_have_text(re.compile(r"^00:(5\d|60)$|^01:00$"))
        expect(big).not_to_have_class(re.compile(r"\bover\b"))
        expect(mine).not_to_have_class(re.compile(r"\bover\b|\bwarn\b"))
        shots(chair, "floor-chair-speaking")

        # Open microphones, two at most: the first who waits gets the free one.
        chair.get_by_test_id("mic-mode").select_option("open")
        chair.get_by_test_id("max-open").fill("2")
        chair.get_by_test_id("mic-apply").click()
        expect(display.locator(".display-speaker-name")).to_have_text([phuong["name"], tuyet["name"]])
        expect(chair.get_by_test_id("mic-mode")).to_have_value("open")
        expect(chair.locator(".queue-name")).to_have_text([nhung["name"]])

        # The speaker ends early from the tablet; then "all off" empties the hall.
        b.get_by_test_id("stop-speaking").click()
        expect(display.locator(".display-speaker-name")).to_have_text([tuyet["name"], nhung["name"]])
        chair.get_by_test_id("all-off").click()
        expect(display.locator("#speakers")).to_contain_text("Chưa có đại biểu phát biểu.")
        expect(tech.get_by_test_id("unit-3")).to_contain_text("Tắt", timeout=10_000)
        state = httpx.get(f"{server.base}/api/state", headers=server.secretary.headers).json()
        assert state["floor"]["speaking"] == [] and state["floor"]["mic_mode"] == "open"
        assert state["floor"]["max_open"] == 2
    finally:
        for page in pages:
            page.context.close()


def test_a_display_started_for_the_speaker_view_shows_only_the_speaker(
    browser: Any, hall: tuple[Server, Path], shots: Any
) -> None:
    expect = _expect()
    server, _ = hall
    page = pair_page(browser, server, server.by_name("Màn hình hội trường chính")["id"], HALL, "display.html")
    try:
        page.goto(f"{server.base}/ui/display.html?view=speaker&output=HDMI-A-2")
        expect(page.locator("body")).to_have_attribute("data-view", "speaker")
        expect(page.locator("#speakers")).to_be_visible()
        expect(page.locator("#queue")).to_be_hidden()
        expect(page.locator("#attendance")).to_be_hidden()
        time.sleep(0.2)
        shots(page, "floor-display-speaker-view")
    finally:
        page.context.close()
