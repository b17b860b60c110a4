"""The floor over HTTP: twenty concurrent requests on the real server, the local socket for
hardware, and the automatic microphone-off on a fixed clock (durations to the second)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from appliance.core.clock import FixedClock
from appliance.core.settings import Settings
from appliance.devices.local_api import local_socket_path
from appliance.web.app import create_app
from appliance.web.hall import board_of, timer_of
from appliance.web.service import Appliance
from tests.web.conftest import SETUP_CODE, Hall
from tests.web.realserver import Driver


async def test_twenty_concurrent_requests_from_one_delegate_yield_one_entry(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    try:
        await driver.setup(["Chủ tọa", "Đại biểu A", "Đại biểu B"])
        async with driver.client() as c:
            await c.post("/api/sitting/open", json={}, headers=driver.h("d1"))
            await c.post("/api/attendance/check-in", json={}, headers=driver.h("d2"))
            answers = await asyncio.gather(
                *(c.post("/api/floor/request", json={"kind": "speak"}, headers=driver.h("d2")) for _ in range(20))
            )
            assert {r.status_code for r in answers} == {200}
            floor = (await c.get("/api/state", headers=driver.h("d1"))).json()["floor"]
            assert [q["participant_id"] for q in floor["queue"]] == [driver.ids["d2"]]
            assert sum(1 for r in answers if r.json().get("changed")) == 1
    finally:
        await driver.server.stop()


async def test_hardware_events_come_in_over_the_local_socket_only(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    try:
        await driver.setup(["Chủ tọa", "Đại biểu A", "Đại biểu B"])
        sock = local_socket_path(driver.data_dir)
        assert sock.exists() and (sock.stat().st_mode & 0o777) == 0o600
        local = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(sock)), base_url="http://phs.local")
        async with driver.client() as c, local:
            await c.post("/api/sitting/open", json={}, headers=driver.h("d1"))
            r = await local.post("/api/local/units/event", json={"seat": 3, "type": "press"})
            assert r.status_code == 200, r.text
            state = (await c.get("/api/state", headers=driver.h("d1"))).json()
            assert [q["participant_id"] for q in state["floor"]["queue"]] == [driver.ids["d3"]]
            plan = (await local.get("/api/local/plan")).json()
            assert (plan["waiting"], plan["open"]) == (["3"], [])
            # A tablet cannot pretend to be a unit: local routes refuse TCP, with or without a token.
            for headers in (driver.h("d1"), {}):
                r = await c.post("/api/local/units/event", json={"seat": 3, "type": "press"}, headers=headers)
                assert (r.status_code, r.json()["code"]) == (403, "forbidden")
            # The long-poll answers as soon as the floor changes.
            waiter = asyncio.create_task(local.get("/api/local/plan", params={"after": plan["position"], "wait": 10}))
            await asyncio.sleep(0.2)
            await c.post("/api/floor/grant", json={"to": "next"}, headers=driver.h("d1"))
            plan = (await asyncio.wait_for(waiter, 5)).json()
            assert (plan["open"], plan["waiting"]) == (["3"], [])
            r = await local.post("/api/local/units/event", json={"seat": 99, "type": "press"})
            assert r.json()["code"] == "not_found"
    finally:
        await driver.server.stop()


@pytest.fixture
def timed(tmp_path: Path) -> Iterator[tuple[Hall, FixedClock, Appliance]]:
    clock = FixedClock()
    settings = Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys", setup_code=SETUP_CODE)
    appliance = Appliance(settings, clock)
    with TestClient(create_app(settings, appliance)) as client:
        hall = Hall(client)
        hall.tokens["secretary"] = client.post("/api/pair", json={"code": SETUP_CODE}).json()["token"]
        hall.call("POST", "/api/setup", "secretary", json={"body": "HĐND xã Thử", "session": "Kỳ họp"})
        rows = [{"name": f"Người {i}", "role": r, "seat": i} for i, r in enumerate(["chair", "delegate", "delegate"], 1)]
        made = hall.call("POST", "/api/participants", "secretary", json={"participants": rows}).json()["participants"]
        for p, key in zip(made, ["chair", "d2", "d3"], strict=True):
            code = hall.call("POST", "/api/pairing-codes", "secretary", json={"participant_id": p["id"]}).json()["code"]
            hall.tokens[key] = hall.call("POST", "/api/pair", None, json={"code": code}).json()["token"]
            hall.ids[key] = p["id"]
        hall.call("POST", "/api/sitting/open", "chair", json={})
        yield hall, clock, appliance


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_the_microphone_closes_itself_at_zero_and_extension_moves_it(timed: tuple[Hall, FixedClock, Appliance]) -> None:
    hall, clock, appliance = timed
    _ok(hall.call("POST", "/api/floor/limits", "chair", json={"limits": {"speak": 120}, "auto_off": True, "warn_s": 20}))
    _ok(hall.call("POST", "/api/floor/grant", "chair", json={"to": hall.ids["d2"]}))
    speaking = _ok(hall.call("GET", "/api/state", "d2"))["floor"]["speaking"]
    assert [(s["limit_s"], s["since"]) for s in speaking] == [(120.0, clock.wall)]
    fire = timer_of(appliance).fire_due
    clock.advance(100)
    _ok(hall.call("POST", "/api/floor/extend", "chair", json={"to": hall.ids["d2"], "seconds": 45}))
    clock.advance(20)  # 120 s: the first allowance is gone, the extension is not
    assert hall.client.blocking_portal.call(fire) == 0
    clock.advance(45)
    assert hall.client.blocking_portal.call(fire) == 1
    state = _ok(hall.call("GET", "/api/state", "chair"))
    assert state["floor"]["speaking"] == []
    assert [(s.seconds, s.limit_s) for s in appliance.state.floor.speeches] == [(165.0, 165.0)]
    # Ended early by the chair: the deadline goes with the speech.
    _ok(hall.call("POST", "/api/floor/grant", "chair", json={"to": hall.ids["d3"]}))
    clock.advance(30)
    _ok(hall.call("POST", "/api/floor/end", "chair", json={"to": hall.ids["d3"]}))
    assert timer_of(appliance).deadlines.keys() == []
    assert appliance.state.floor.speeches[-1].seconds == 30.0
    assert board_of(appliance).technician_view()["units"] == []
