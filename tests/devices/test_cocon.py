"""The CoCon adapter against a simulator that answers message by message as the CoCon API
manual describes (Connect, Subscribe, Notification long-poll with 408/400, SetState,
MicrophoneState, UnitStateChanged), on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
import uvicorn

from appliance.devices.cocon import CoConSystem, decode
from appliance.devices.conference import ButtonPress, ConferenceEvent, UnitOffline, UnitOnline


class CoConSimulator:
    """The room server's API as documented: connection ids, subscriptions, one notification per poll."""

    def __init__(self, notify_timeout: float = 0.5) -> None:
        self.notify_timeout = notify_timeout
        self.connections: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self.subscriptions: dict[str, set[str]] = {}
        self.speakers: list[int] = []
        self.requests: list[int] = []
        self.commands: list[tuple[str, int]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path, query = scope["path"], {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        status, body = await self.route(path, query)
        data = body.encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
        await send({"type": "http.response.body", "body": data})

    async def route(self, path: str, query: dict[str, str]) -> tuple[int, str]:
        if path == "/CoCon/Connect":
            cid = str(uuid.uuid4())
            self.connections[cid] = asyncio.Queue()
            self.subscriptions[cid] = set()
            return 200, json.dumps(json.dumps({"Connect": True, "id": cid}))  # a JSON string, as documented
        if path.startswith("/CoCon/Notification/id="):
            queue = self.connections.get(path.rsplit("=", 1)[1])
            if queue is None:
                return 400, json.dumps({"Notification": "Error 400"})
            try:
                message = await asyncio.wait_for(queue.get(), self.notify_timeout)
            except TimeoutError:
                return 408, json.dumps("Notification request timeout")
            return 200, json.dumps(json.dumps(message))
        if path.startswith("/CoCon/Subscribe"):
            if query.get("id") not in self.connections:
                return 200, "1"  # documented: 1 = incorrect parameter
            self.subscriptions[query["id"]].add(query.get("Model", ""))
            return 200, "0"
        if path.startswith("/CoCon/Microphone/SetState"):
            state, seat = query.get("State"), int(query.get("SeatNr", "0"))
            self.commands.append((str(state), seat))
            for lst in (self.speakers, self.requests):
                if seat in lst:
                    lst.remove(seat)
            if state == "On":
                self.speakers.append(seat)
            elif state == "Request":
                self.requests.append(seat)
            self.microphones_changed()
            return 200, "0"
        return 404, "\"unknown\""

    def publish(self, model: str, message: dict[str, Any]) -> None:
        for cid, queue in self.connections.items():
            if model in self.subscriptions[cid]:
                queue.put_nowait(message)

    def microphones_changed(self) -> None:
        self.publish("Microphone", {"MicrophoneState": {"Speakers": list(self.speakers), "Requests": list(self.requests), "Replies": []}})

    # what happens in the room
    def button(self, seat: int) -> None:
        """A delegate presses the microphone button (request mode): in request, or cancelled."""
        if seat in self.requests:
            self.requests.remove(seat)
        elif seat in self.speakers:
            self.speakers.remove(seat)
        else:
            self.requests.append(seat)
        self.microphones_changed()

    def unit(self, unit_id: int, online: bool) -> None:
        self.publish("Room", {"UnitStateChanged": {"Id": unit_id, "State": 1 if online else 0}})

    def forget_clients(self) -> None:
        """The room server restarted: every connection id is unknown now."""
        self.connections.clear()
        self.subscriptions.clear()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: CoConSimulator, port: int) -> AsyncIterator[uvicorn.Server]:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


async def until(check: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


def test_decode_reads_double_encoded_json() -> None:
    assert decode('"{\\"Connect\\":true,\\"id\\":\\"x\\"}"') == {"Connect": True, "id": "x"}
    assert decode("0") == 0


@pytest.mark.timeout(60)
async def test_request_grant_end_and_a_dropped_connection() -> None:
    sim, port = CoConSimulator(), free_port()
    got: list[ConferenceEvent] = []
    async with serving(sim, port) as server:
        cocon = CoConSystem("127.0.0.1", port=port, unit_seats={9: "12"}, notify_timeout=2.0, retry_s=0.1)
        stream = cocon.events()

        async def collect() -> None:
            async for e in stream:
                got.append(e)

        collector = asyncio.create_task(collect())
        await cocon.start()
        await until(lambda: sim.subscriptions and all(s == {"Microphone", "Room"} for s in sim.subscriptions.values()))

        # request: the delegate's button puts seat 5 in request; we see one press
        sim.button(5)
        await until(lambda: got == [ButtonPress("5")])
        await cocon.set_indicator("5", "waiting")  # what the plan says next: already in request, nothing sent
        assert sim.commands == []
        # grant: the microphone goes on; CoCon's own notification is not a press
        await cocon.open_mic("5")
        await cocon.set_indicator("5", "speaking")
        await until(lambda: sim.speakers == [5])
        # end
        await cocon.close_mic("5")
        await cocon.set_indicator("5", "off")
        await until(lambda: sim.speakers == [] and cocon.speakers == set())
        assert sim.commands == [("On", 5), ("Off", 5)]
        await asyncio.sleep(0.2)
        assert got == [ButtonPress("5")]
        # units: the unit id maps to its seat by configuration
        sim.unit(9, online=False)
        sim.unit(9, online=True)
        await until(lambda: got[1:] == [UnitOffline("12"), UnitOnline("12")])

        # the room server forgets us (400 on the next poll): connect and subscribe again
        first = cocon.connects
        sim.forget_clients()
        await until(lambda: cocon.connects > first and bool(sim.subscriptions))
        sim.button(7)
        await until(lambda: got[-1] == ButtonPress("7"))

        # the link drops (server gone, then back on the same port): reconnect by itself
        server.should_exit = True
    async with serving(sim, port):
        sim.forget_clients()
        before = cocon.connects
        await until(lambda: cocon.connects > before, timeout=10)
        sim.button(8)
        await until(lambda: got[-1] == ButtonPress("8"))
        await cocon.close()
        collector.cancel()
