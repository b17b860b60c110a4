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

from tests.e2e.conftest import DELEGATES, TABLET, Server, own_server, pair_page

pytestmark = pytest.mark.e2e
AHEAD_S = 2 * 3600  # the console's clock runs two hours ahead of the box's


@pytest.fixture(scope="module")
def clock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with own_server(tmp_path_factory.mktemp("phs-clock"), "HĐND xã Mường Thanh", "Kỳ họp thứ hai") as srv:
        yield srv


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
