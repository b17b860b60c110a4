"""A seat ties a participant to their microphone unit: the plan opens the unit wired to the
speaker's seat, and a press from a unit is the floor request of whoever sits there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from appliance.core.errors import PhsError
from appliance.devices.local_api import local_socket_path
from appliance.meeting import seating
from appliance.web.hardware import plan
from tests.meeting.conftest import SECRETARY, Sitting
from tests.web.realserver import Driver

# One row of 15 seats; seat 12 is wired to unit 40, seat 3 to unit "A3".
ROW = [{"shape": "rows", "rows": 1, "per_row": 15}]
WIRING = {"12": "40", "3": "A3"}


@pytest.fixture
def hall() -> Sitting:
    s = Sitting(15)
    s.run(SECRETARY, "set_seating_plan", sections=ROW, units=WIRING)
    s.open_with(15)
    return s


def test_granting_the_floor_opens_the_unit_wired_to_the_seat(hall: Sitting) -> None:
    hall.run("d12", "request_floor")
    hall.run("d5", "request_floor")
    assert (plan(hall.state)["open"], plan(hall.state)["waiting"]) == ([], ["40", "5"])
    hall.run("d1", "grant_floor", to="d12")
    assert (plan(hall.state)["open"], plan(hall.state)["waiting"]) == (["40"], ["5"])
    hall.run("d1", "grant_floor", to="d3")  # one microphone at a time: seat 12's closes
    assert plan(hall.state)["open"] == ["A3"]


def test_a_unit_names_the_delegate_at_its_seat_and_the_seat_number_is_the_default(hall: Sitting) -> None:
    assert seating.participant_at_unit(hall.state, "40") is hall.state.participants["d12"]
    assert seating.participant_at_unit(hall.state, "A3") is hall.state.participants["d3"]
    assert seating.participant_at_unit(hall.state, "5") is hall.state.participants["d5"]
    # Seat 12's own number no longer names a unit: nothing is wired there.
    assert seating.participant_at_unit(hall.state, "12") is None
    assert seating.participant_at_unit(hall.state, "3") is None
    assert seating.seat_units(hall.state)[12] == "40"
    assert seating.seat_units(hall.state)[11] == "11"


def test_without_a_plan_a_unit_is_the_seat_number() -> None:
    s = Sitting(5)
    s.open_with(5)
    s.run("d4", "request_floor")
    s.run("d1", "grant_floor", to="d4")
    assert plan(s.state)["open"] == ["4"]
    assert seating.participant_at_unit(s.state, "4") is s.state.participants["d4"]


def test_one_unit_wired_to_two_seats_is_refused() -> None:
    s = Sitting(15)
    with pytest.raises(PhsError) as refused:
        s.run(SECRETARY, "set_seating_plan", sections=ROW, units={"12": "14"})
    assert refused.value.code == "invalid"
    assert refused.value.detail == {"field": "units", "unit": "14"}
    assert refused.value.message_en == "Microphone unit 14 is wired to both seat 12 and seat 14."


async def test_a_press_from_unit_40_is_the_floor_request_of_seat_12(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    try:
        await driver.setup([f"Đại biểu {i}" for i in range(1, 13)])  # d12 sits at seat 12
        local = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(local_socket_path(driver.data_dir))), base_url="http://phs.local"
        )
        async with driver.client() as c, local:
            r = await c.post("/api/seating/plan", json={"sections": ROW, "units": {"12": "40"}}, headers=driver.h("secretary"))
            assert r.status_code == 200, r.text
            assert [s["unit"] for s in r.json()["seating"]["seats"]][10:13] == ["11", "40", "13"]
            await c.post("/api/sitting/open", json={}, headers=driver.h("d1"))
            await c.post("/api/attendance/check-in", json={}, headers=driver.h("d12"))
            r = await local.post("/api/local/units/event", json={"seat": "40", "type": "press"})
            assert r.status_code == 200, r.text
            state = (await c.get("/api/state", headers=driver.h("d1"))).json()
            assert [q["participant_id"] for q in state["floor"]["queue"]] == [driver.ids["d12"]]
            assert (await local.get("/api/local/plan")).json()["waiting"] == ["40"]
            await c.post("/api/floor/grant", json={"to": "next"}, headers=driver.h("d1"))
            assert (await local.get("/api/local/plan")).json()["open"] == ["40"]
            # Seat 12's number is not a unit any more: a press from "12" names nobody.
            r = await local.post("/api/local/units/event", json={"seat": "12", "type": "press"})
            assert (r.status_code, r.json()["code"]) == (404, "not_found")
    finally:
        await driver.server.stop()
