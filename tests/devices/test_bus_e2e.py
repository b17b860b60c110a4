"""End to end over the bus simulator: units behind a pseudo-terminal running the real
firmware logic, the host polling them, the bridge, and the real server process."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

from appliance.devices.bridge import Bridge
from appliance.devices.phsbus import proto
from appliance.devices.phsbus.host import PhsBusSystem
from appliance.devices.phsbus.simulator import BusSimulator
from tests.web.realserver import Driver

NAMES = ["Chủ tọa", "Đại biểu Hai", "Đại biểu Ba", "Đại biểu Bốn", "Đại biểu Năm"]


async def until(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_units_on_the_bus_drive_the_floor_and_vote(tmp_path: Path) -> None:
    driver = Driver(tmp_path)
    sim = BusSimulator(range(1, 6)).start()
    bus = PhsBusSystem(sim.path, range(1, 6))
    bridge_task: asyncio.Task[None] | None = None
    try:
        await driver.setup(NAMES)
        await bus.start()
        bridge = Bridge(bus, driver.data_dir, status=bus.status, source="phs-bus")
        bridge_task = asyncio.create_task(bridge.run())
        await until(lambda: all(u.online for u in bus.units.values()))
        async with driver.client() as c:
            async def state() -> dict:  # type: ignore[type-arg]
                return (await c.get("/api/state", headers=driver.h("d1"))).json()  # type: ignore[no-any-return]

            await c.post("/api/sitting/open", json={}, headers=driver.h("d1"))
            for i in range(1, 6):
                await c.post("/api/attendance/check-in", json={}, headers=driver.h(f"d{i}"))

            # A unit's request button puts its delegate in the chair's queue, and lights it green.
            sim.press(3)
            queue: list[str] = []

            async def queued() -> bool:
                queue[:] = [q["participant_id"] for q in (await state())["floor"]["queue"]]
                return bool(queue)

            deadline = time.monotonic() + 5
            while not await queued():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            assert queue == [driver.ids["d3"]]
            await until(lambda: sim.outputs(3) == (0, proto.LED_WAITING))

            # The chair's grant closes the relay and turns the ring red.
            await c.post("/api/floor/grant", json={"to": "next"}, headers=driver.h("d1"))
            await until(lambda: sim.outputs(3) == (1, proto.LED_SPEAKING))
            assert all(sim.outputs(a) == (0, proto.LED_OFF) for a in (1, 2, 4, 5))

            # A keypad press during a poll is that delegate's ballot (key 2: the second answer).
            r = await c.post("/api/polls", json={"question": "Tán thành?", "method": "public",
                                                 "answers": ["for", "against", "abstain"],
                                                 "rule": "more_than_half_of_total"}, headers=driver.h("d1"))
            poll_id = r.json()["poll"]["id"]
            sim.key(4, 2)
            sim.key(4, 1)  # a second key press is refused (already voted), not counted

            async def voted() -> bool:
                poll = (await c.get(f"/api/polls/{poll_id}", headers=driver.h("d1"))).json()["poll"]
                return bool(poll["voted"] == 1)

            deadline = time.monotonic() + 5
            while not await voted():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            closed = (await c.post(f"/api/polls/{poll_id}/close", json={}, headers=driver.h("d1"))).json()["poll"]
            assert closed["result"]["counts"]["against"] == 1
            assert closed["result"]["per_delegate"] == [{"participant_id": driver.ids["d4"], "answer": "against"}]

            # Unplugged mid-speech: reported offline on the technician screen; nothing crashes.
            sim.unplug(3)
            await until(lambda: not bus.units[3].online)

            async def reported() -> bool:
                view = (await c.get("/api/devices", headers=driver.h("secretary"))).json()
                units = {u["seat"]: u for u in view["units"]}
                return "3" in units and units["3"]["online"] is False

            deadline = time.monotonic() + 5
            while not await reported():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            await c.post("/api/floor/end", json={"to": "all"}, headers=driver.h("d1"))
            sim.press(5)
            await until(lambda: sim.outputs(5) == (0, proto.LED_WAITING))
            # Plugged back in: found again, and given its state (off) without anyone asking.
            sim.plug(3)
            await until(lambda: bus.units[3].online)
            await until(lambda: sim.outputs(3) == (0, proto.LED_OFF))
            assert bridge_task is not None and not bridge_task.done()
    finally:
        if bridge_task is not None:
            bridge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await bridge_task
        await bus.close()
        sim.stop()
        await driver.server.stop()


async def test_a_corrupted_reply_and_a_slow_unit_cost_a_retry_not_an_event(tmp_path: Path) -> None:
    sim = BusSimulator(range(1, 4)).start()
    bus = PhsBusSystem(sim.path, range(1, 4))
    presses = []
    try:
        await bus.start()
        await until(lambda: all(u.online for u in bus.units.values()))
        events = bus.events()

        async def collect() -> None:
            async for e in events:
                presses.append(e)

        task = asyncio.create_task(collect())
        sim.corrupt[2] = 1
        sim.press(2)
        sim.slow[1] = 0.001  # within the reply timeout: slow, still answering
        await until(lambda: len(presses) == 1)
        await asyncio.sleep(0.2)
        assert [type(e).__name__ for e in presses] == ["ButtonPress"] and presses[0].seat == "2"
        assert bus.stats.crc_errors >= 1
        await until(lambda: bus.units[1].online)
        await bus.open_mic("1")
        await until(lambda: sim.outputs(1)[0] == 1)
        task.cancel()
    finally:
        await bus.close()
        sim.stop()
    assert all(sim.outputs(a) == (0, proto.LED_OFF) for a in (1, 2, 3))  # ALL_OFF on close


def test_the_firmware_and_the_host_share_one_protocol_file() -> None:
    repo = Path(__file__).resolve().parents[2]
    firmware = (repo / "firmware_scripts" / "phsbus_proto.py").read_bytes()
    assert firmware == (repo / "appliance" / "devices" / "phsbus" / "proto.py").read_bytes()


def test_frames_and_crc() -> None:
    frame = proto.encode(7, proto.SET, 3, bytes([1, proto.LED_SPEAKING]))
    assert proto.crc16(b"123456789") == 0x29B1  # CRC-16/CCITT-FALSE check value
    d = proto.Decoder()
    noisy = b"\x00\x7e\x13" + frame[:4] + frame + frame[:-1] + bytes([frame[-1] ^ 1]) + frame
    assert d.feed(noisy[:5]) == []
    assert d.feed(noisy[5:]) == [(7, proto.SET, 3, bytes([1, 2]))] * 2
    assert d.bad >= 1
    unit = proto.Unit(7)
    unit.press()
    status = proto.Decoder().feed(unit.handle((7, proto.POLL, 0, b"\x00"), 0) or b"")[0]
    assert proto.parse_status(status[3]) == (proto.FLAG_NEEDS_STATE, [(proto.EV_BUTTON, 1)])
    unit.tick(proto.HEARTBEAT_MS + 1)
    assert (unit.relay, unit.led) == (0, proto.LED_NO_HOST)
