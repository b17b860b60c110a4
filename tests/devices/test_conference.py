"""The simulated conference system: the contract every real adapter must also meet."""

from __future__ import annotations

import asyncio

import pytest

from appliance.core.errors import PhsError
from appliance.devices.conference import (
    ButtonPress,
    ConferenceSystem,
    KeypadVote,
    SimulatedConferenceSystem,
    UnitOffline,
    UnitOnline,
    UnitState,
)


def make() -> SimulatedConferenceSystem:
    return SimulatedConferenceSystem(["1", "2", "3"])


def test_simulation_satisfies_the_protocol() -> None:
    system: ConferenceSystem = make()
    assert system is not None


async def test_open_and_close_mic_change_only_that_seat() -> None:
    system = make()
    await system.open_mic("2")
    assert system.open_mics == ["2"]
    assert system.units["1"] == UnitState()
    await system.open_mic("1")
    assert system.open_mics == ["1", "2"]
    await system.close_mic("2")
    await system.close_mic("2")  # closing twice is harmless
    assert system.open_mics == ["1"]


async def test_indicator_takes_the_three_states() -> None:
    system = make()
    await system.set_indicator("3", "waiting")
    assert system.units["3"].indicator == "waiting"
    await system.set_indicator("3", "speaking")
    assert system.units["3"].indicator == "speaking"
    await system.set_indicator("3", "off")
    assert system.units["3"].indicator == "off"
    with pytest.raises(PhsError) as refused:
        await system.set_indicator("3", "blinking")  # type: ignore[arg-type]
    assert refused.value.code == "invalid"


async def test_unknown_seat_is_not_found() -> None:
    system = make()
    with pytest.raises(PhsError) as refused:
        await system.open_mic("99")
    assert refused.value.code == "not_found"
    assert refused.value.detail == {"seat": "99"}


async def test_injected_presses_and_votes_arrive_in_order() -> None:
    system = make()
    events = system.events()
    system.press("1")
    system.vote("2", "1")
    system.press("1", "cancel")
    received = [await anext(events) for _ in range(3)]
    assert received == [ButtonPress("1", "request"), KeypadVote("2", "1"), ButtonPress("1", "cancel")]


async def test_every_subscriber_sees_every_event() -> None:
    system = make()
    first, second = system.events(), system.events()
    system.press("3", "priority")
    assert await anext(first) == ButtonPress("3", "priority")
    assert await anext(second) == ButtonPress("3", "priority")


async def test_a_unit_going_offline_closes_its_mic_and_refuses_commands() -> None:
    system = make()
    events = system.events()
    await system.open_mic("1")
    await system.set_indicator("1", "speaking")
    system.go_offline("1")
    system.go_offline("1")  # no second event for a unit already offline
    assert system.units["1"] == UnitState(online=False, mic_open=False, indicator="off")
    with pytest.raises(PhsError) as refused:
        await system.open_mic("1")
    assert refused.value.code == "conflict"
    with pytest.raises(PhsError):
        system.press("1")
    system.go_online("1")
    assert [await anext(events), await anext(events)] == [UnitOffline("1"), UnitOnline("1")]
    await system.open_mic("1")
    assert system.open_mics == ["1"]


async def test_close_ends_every_event_stream() -> None:
    system = make()
    events = system.events()
    system.press("2")
    await system.close()
    collected = [event async for event in events]
    assert collected == [ButtonPress("2")]
    late = [event async for event in system.events()]
    assert late == []
    with pytest.raises(PhsError):
        system.press("2")


async def test_a_waiting_consumer_wakes_on_a_press() -> None:
    system = make()
    events = system.events()
    waiter = asyncio.create_task(anext(events))
    await asyncio.sleep(0)
    system.press("3")
    assert await asyncio.wait_for(waiter, 1.0) == ButtonPress("3")
