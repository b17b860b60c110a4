"""Wiring seats to microphone units in the secretary's seating editor, in real Chromium.

The secretary taps seat 12, types unit 40 and saves: the plan the server keeps has seat 12
on unit 40, and the seat shows it. Unit 40 on seat 13 as well is refused by the server
(one unit, two seats), and the editor shows the server's own message beside the field.
Its own server: the package's shared one has no seating plan to keep apart from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import (
    Server,
    free_port,
    launch_server,
    pair_page,
    pair_secretary,
    stop_server,
)

pytestmark = pytest.mark.e2e
ROW = [{"shape": "rows", "block": "Dãy A", "rows": 1, "per_row": 15}]


@pytest.fixture(scope="module")
def wired_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("phs-seat-units")
    port = free_port()
    proc, log_path = launch_server(tmp, port)
    try:
        client, secretary_id = pair_secretary(f"http://127.0.0.1:{port}")
        srv = Server(base=f"http://127.0.0.1:{port}", secretary=client, secretary_id=secretary_id, log_path=log_path)
        assert client.post("/api/setup", json={"body": "HĐND phường Cửa Nam", "session": "Kỳ họp thứ ba"}).status_code == 200
        assert client.post("/api/seating/plan", json={"sections": ROW}).status_code == 200
        people = [{"name": f"Đại biểu Số {n}", "seat": n} for n in range(1, 16)]
        made = client.post("/api/participants", json={"participants": people})
        assert made.status_code == 200, made.text
        yield srv
        client.close()
    finally:
        stop_server(proc)


def units_of(server: Server) -> dict[int, str]:
    return {s["n"]: s["unit"] for s in server.secretary.get("/api/seating").json()["seats"]}


def test_the_secretary_wires_seat_12_to_unit_40_and_a_second_seat_on_it_is_refused(
    browser: Any, wired_server: Server, shots: Any
) -> None:
    from playwright.sync_api import expect

    server = wired_server
    sec = pair_page(browser, server, server.secretary_id, {"width": 1440, "height": 1000}, "secretary.html")
    try:
        expect(sec.get_by_test_id("seat-12")).to_contain_text("12")
        sec.get_by_test_id("seat-12").click()  # no name picked: the seat's wiring opens
        form = sec.get_by_test_id("seat-unit-form")
        expect(form).to_contain_text("Ghế 12 — bộ micro")
        expect(form).to_contain_text("Bộ micro số")
        sec.get_by_test_id("seat-unit-input").fill("40")
        sec.get_by_test_id("seat-unit-save").click()
        expect(sec.get_by_test_id("seat-unit-12")).to_have_text("Micro 40")
        expect(form).to_have_count(0)
        assert units_of(server)[12] == "40"
        assert units_of(server)[11] == "11"  # the others keep their own numbers
        assert len(units_of(server)) == 15  # the same plan, only rewired

        # Unit 40 on seat 13 too: the server refuses, the editor shows its message.
        sec.get_by_test_id("seat-13").click()
        sec.get_by_test_id("seat-unit-input").fill("40")
        sec.get_by_test_id("seat-unit-save").click()
        error = sec.get_by_test_id("seat-unit-error")
        expect(error).to_have_text("Bộ micro 40 được nối với cả ghế 12 và ghế 13.")
        expect(sec.get_by_test_id("seat-unit-input")).to_have_value("40")
        assert units_of(server)[13] == "13" and units_of(server)[12] == "40"
        card = sec.get_by_test_id("seating-card")
        card.screenshot(path=str(shots(sec, "seat-units-refused").with_name("seat-units-refused-card.png")))

        # In English the same refusal reads in English.
        sec.locator("[data-lang-toggle]").first.click()
        sec.get_by_test_id("seat-unit-save").click()
        expect(error).to_have_text("Microphone unit 40 is wired to both seat 12 and seat 13.")
        sec.get_by_test_id("seat-unit-cancel").click()
        expect(sec.get_by_test_id("seat-unit-form")).to_have_count(0)
        expect(sec.get_by_test_id("seat-unit-12")).to_have_text("Mic 40")
    finally:
        sec.context.close()
