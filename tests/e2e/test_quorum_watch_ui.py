"""The chair is warned when quorum is lost during a poll (web_ui/quorum_watch.js, issue 5).

Its own server: delegates check out here, which would change every other test's quorum.
Four delegates, quorum 3: with a poll open, two check out (2/3) and the chair's console
shows the warning at once; one checks back in and it goes away.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import DELEGATES, TABLET, Server, _ok, own_server, pair_page

pytestmark = pytest.mark.e2e

WARNING_VI = "Cảnh báo: không còn đủ số đại biểu tối thiểu (2/3) trong khi đang biểu quyết."


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@pytest.fixture(scope="module")
def quorum_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with own_server(tmp_path_factory.mktemp("phs-quorum"), "HĐND phường Ba Đình", "Kỳ họp thứ nhất") as srv:
        _ok(srv.secretary.post("/api/agenda", json={"title": "Thông qua Nghị quyết về dự toán ngân sách phường năm 2026"}))
        yield srv


def test_chair_is_warned_when_quorum_is_lost_during_a_poll(
    browser: Any, quorum_server: Server, shots: Any, tmp_path: Path
) -> None:
    expect = _expect()
    srv, sec = quorum_server, quorum_server.secretary
    chair_p, d2, d3, d4 = (srv.by_name(d["name"]) for d in DELEGATES)
    chair = pair_page(browser, srv, chair_p["id"], TABLET, "chair.html")
    code = _ok(sec.post("/api/pairing-codes", json={"participant_id": chair_p["id"]}))["code"]
    chair_api = httpx.Client(base_url=srv.base, timeout=30, headers={
        "Authorization": f"Bearer {_ok(httpx.post(f'{srv.base}/api/pair', json={'code': code}))['token']}"})
    try:
        _ok(chair_api.post("/api/sitting/open", json={}))
        for p in (chair_p, d2, d3, d4):
            _ok(sec.post(f"/api/attendance/{p['id']}/check-in"))
        _ok(chair_api.post("/api/polls", json={"question": "Tán thành thông qua Nghị quyết?", "method": "public",
                                              "answers": ["for", "against", "abstain"],
                                              "rule": "more_than_half_of_total"}))
        expect(chair.get_by_test_id("present")).to_have_text("4")
        alert = chair.get_by_test_id("quorum-alert")
        expect(alert).to_have_count(0)  # quorum held: no warning

        # Two delegates leave the hall mid-poll: 2 present of the 3 needed.
        for p in (d3, d4):
            _ok(sec.post(f"/api/attendance/{p['id']}/check-out"))
        expect(alert).to_have_text(WARNING_VI)
        expect(alert).to_have_attribute("role", "alert")
        expect(chair.get_by_test_id("present")).to_have_text("2")
        shot = shots(chair, "chair-quorum-lost")
        assert shot.parent == tmp_path and shot.stat().st_size > 0

        # One comes back: 3 of 3 needed, quorum again, the warning goes.
        _ok(sec.post(f"/api/attendance/{d4['id']}/check-in"))
        expect(alert).to_have_count(0)
        expect(chair.get_by_test_id("present")).to_have_text("3")
        shots(chair, "chair-quorum-back")
    finally:
        chair_api.close()
        chair.context.close()
