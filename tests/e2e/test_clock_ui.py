"""The box has no internet time (issue 3, item 7): when the chair's console and the box
disagree by more than five minutes, the opening button shows both clocks, the sitting opens
on the console's time, and the jump is kept in the record — never silently applied.

Its own server: opening the sitting would change every other test's state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import (
    DELEGATES,
    TABLET,
    Server,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e
AHEAD_S = 2 * 3600  # the console's clock runs two hours ahead of the box's


@pytest.fixture(scope="module")
def clock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("phs-clock")
    port = free_port()
    proc, log_path = launch_server(tmp, port)
    try:
        base = f"http://127.0.0.1:{port}"
        client, secretary_id = pair_secretary(base)
        srv = Server(base=base, secretary=client, secretary_id=secretary_id, log_path=log_path)
        assert client.post("/api/setup", json={"body": "HĐND xã Mường Thanh", "session": "Kỳ họp thứ hai",
                                               "sittings": ["Phiên họp thứ nhất"]}).status_code == 200
        rows = client.post("/api/participants", json={"participants": DELEGATES}).json()["participants"]
        srv.participants = {p["name"]: p for p in rows}
        yield srv
        client.close()
    finally:
        stop_server(proc)


def test_a_console_far_from_the_box_clock_opens_on_its_time_and_the_jump_is_recorded(
    browser: Any, clock_server: Server, shots: Any
) -> None:
    from playwright.sync_api import expect

    chair = pair_page(browser, clock_server, clock_server.by_name(DELEGATES[0]["name"])["id"], TABLET, "chair.html")
    chair.clock.set_fixed_time(time.time() + AHEAD_S)
    chair.reload()
    chair.wait_for_load_state("networkidle")
    opener = chair.locator("#sitting-toggle")
    opener.click()
    expect(opener).to_contain_text("≠ giờ máy này")
    expect(opener).to_contain_text("chạm lần nữa để mở theo giờ máy này (ghi vào biên bản)")
    shots(chair, "chair-clock-apart")
    opener.click()
    expect(chair.locator("#sitting-status")).to_have_text("Đang họp")
    sitting = httpx.get(f"{clock_server.base}/api/state", headers=clock_server.secretary.headers).json()["sitting"]
    assert sitting["status"] == "open"
    assert AHEAD_S - 60 < sitting["clock_skew_s"] < AHEAD_S + 60  # the console's time minus the box's
    assert abs(sitting["opened_at"] - time.time()) < 60  # the box's clock was not moved
