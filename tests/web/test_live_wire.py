"""The live hub writing straight to sockets: short updates as one uncompressed frame for
everybody, the slow path (queue, then resync) for a socket that cannot take more, and the
same order either way."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import zlib
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from appliance.meeting.roles import Actor
from appliance.web.live import QUEUE_LIMIT
from appliance.web.live_wire import COMPRESS_FROM, WIRE, LiveWebSocketProtocol, Wire, shared_frame
from tests.web.conftest import Hall
from tests.web.realserver import Driver

FLOOR_UPDATE = '{"type": "update", "position": 7, "changed": {"floor": {"speaking": []}}}'


def position(hall: Hall) -> int:
    return int(hall.call("GET", "/api/state", "secretary").json()["position"])


class FakeSocket:
    """A socket's writer that takes ``room`` messages, then reports its buffer full."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.written: list[str] = []

    def write(self, message: str, frame: bytes | None) -> bool:
        if len(self.written) >= self.room:
            return False
        self.written.append(message)
        return True


class Floor:
    """The chair giving the floor to one delegate and ending it, turn about: one event each."""

    def __init__(self, hall: Hall, delegate: str) -> None:
        self.hall, self.delegate, self.speaking = hall, delegate, False

    def events(self, times: int) -> None:
        for _ in range(times):
            if self.speaking:
                self.hall.call("POST", "/api/floor/end", "chair", json={})
            else:
                self.hall.call("POST", "/api/floor/grant", "chair", json={"to": self.delegate})
            self.speaking = not self.speaking


def test_updates_go_straight_to_a_socket_that_takes_them(hall: Hall) -> None:
    """After its snapshot, a connection's updates are written at once and never queued."""
    hub = hall.client.app.state.appliance.hub
    delegate = hall.ids["delegate"]
    sock = FakeSocket(room=100)
    conn = hub.connect(Actor.for_role(delegate, "delegate"), "wired-tablet", sock.write)
    hall.call("POST", "/api/sitting/open", "chair", json={})
    assert sock.written == []  # the snapshot marker is ahead: nothing may overtake it
    assert json.loads(conn.queue.get_nowait())["type"] == "snapshot"
    start = position(hall)
    Floor(hall, delegate).events(6)
    assert conn.queue.qsize() == 0
    assert [json.loads(m)["position"] for m in sock.written] == list(range(start + 1, start + 7))
    hub.disconnect(conn)


def test_a_full_socket_falls_back_to_its_queue_in_order_then_is_resynced(hall: Hall) -> None:
    """A socket that refuses a write gets the rest queued (the direct path waits until the queue
    is empty), up to QUEUE_LIMIT; past it one resync marker, as for a stalled reader."""
    hub = hall.client.app.state.appliance.hub
    delegate = hall.ids["delegate"]
    hall.call("POST", "/api/sitting/open", "chair", json={})
    sock = FakeSocket(room=3)
    conn = hub.connect(Actor.for_role(delegate, "delegate"), "slow-tablet", sock.write)
    assert json.loads(conn.queue.get_nowait())["type"] == "snapshot"
    start = position(hall)
    floor = Floor(hall, delegate)
    floor.events(5)
    assert [json.loads(m)["position"] for m in sock.written] == [start + 1, start + 2, start + 3]
    queued = [json.loads(conn.queue.get_nowait())["position"] for _ in range(conn.queue.qsize())]
    assert queued == [start + 4, start + 5]
    sock.room = 10  # it drained; while the sender task still holds a message nothing overtakes it
    conn.sending = True
    floor.events(1)
    assert (len(sock.written), conn.queue.qsize()) == (3, 1)
    assert json.loads(conn.queue.get_nowait())["position"] == start + 6
    conn.sending = False
    floor.events(1)
    assert (json.loads(sock.written[-1])["position"], conn.queue.qsize()) == (start + 7, 0)
    sock.room = 0  # stalled for good: bounded, then one marker
    floor.events(QUEUE_LIMIT + 3)
    assert (conn.queue.qsize(), conn.queue.stale) == (1, True)
    again = json.loads(conn.queue.get_nowait())
    assert (again["type"], again["position"]) == ("snapshot", position(hall))
    hub.disconnect(conn)


def test_a_short_update_is_one_uncompressed_frame_and_a_long_one_is_not_shared() -> None:
    frame = shared_frame(FLOOR_UPDATE)
    data = FLOOR_UPDATE.encode()
    assert frame == bytes([0x81, len(data)]) + data  # FIN + text, RSV1 clear, unmasked
    assert shared_frame("x" * COMPRESS_FROM) is None
    assert shared_frame("ư" * (COMPRESS_FROM // 2)) is None  # counted in UTF-8 bytes, 2 each


class FakeTransport(asyncio.Transport):
    """The network edge of one uvicorn connection: records what is written."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.closing = False

    def write(self, data: Any) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("192.0.2.7", 50000), "sockname": ("192.0.2.1", 8080)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def read_frames(data: bytes) -> list[tuple[bool, bytes]]:
    """(RSV1, payload) of each unmasked frame in ``data``."""
    frames: list[tuple[bool, bytes]] = []
    i = 0
    while i < len(data):
        rsv1, length = bool(data[i] & 0x40), data[i + 1] & 0x7F
        i += 2
        if length == 126:
            length, i = int.from_bytes(data[i : i + 2], "big"), i + 2
        elif length == 127:
            length, i = int.from_bytes(data[i : i + 8], "big"), i + 8
        frames.append((rsv1, data[i : i + length]))
        i += length
    return frames


async def test_the_wire_writes_while_the_transport_takes_it_and_refuses_while_paused() -> None:
    """uvicorn's protocol puts the writer in the scope; it refuses while the transport buffer
    is over its high-water mark and once the socket closes; long messages are compressed."""
    scopes: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)
        await receive()
        await send({"type": "websocket.accept"})
        await receive()  # until the disconnect

    config = uvicorn.Config(app, ws=LiveWebSocketProtocol, log_config=None, lifespan="off")
    config.load()
    protocol = LiveWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    transport = FakeTransport()
    protocol.connection_made(transport)
    key = base64.b64encode(os.urandom(16)).decode()
    protocol.data_received(
        (
            "GET /api/live HTTP/1.1\r\nHost: box\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()
    )
    for _ in range(5):
        await asyncio.sleep(0)
    assert transport.data.startswith(b"HTTP/1.1 101 ")
    assert b"permessage-deflate" in transport.data
    wire = scopes[0]["extensions"][WIRE]
    assert isinstance(wire, Wire)
    del transport.data[:]
    long = json.dumps({"type": "snapshot", "state": {"participants": [f"Đại biểu {i}" for i in range(200)]}}, ensure_ascii=False)

    assert wire.write(FLOOR_UPDATE, shared_frame(FLOOR_UPDATE)) is True
    protocol.pause_writing()  # the transport's buffer went over its high-water mark
    assert wire.write(FLOOR_UPDATE, shared_frame(FLOOR_UPDATE)) is False
    protocol.resume_writing()
    assert wire.write(long, shared_frame(long)) is True
    frames = read_frames(bytes(transport.data))
    assert [rsv1 for rsv1, _ in frames] == [False, True]
    assert frames[0][1].decode() == FLOOR_UPDATE
    inflate = zlib.decompressobj(wbits=-12)
    assert inflate.decompress(frames[1][1] + b"\x00\x00\xff\xff").decode() == long
    protocol.connection_lost(None)
    assert wire.write(FLOOR_UPDATE, shared_frame(FLOOR_UPDATE)) is False
    await asyncio.sleep(0)


async def test_a_real_server_sends_snapshot_compressed_and_floor_updates_in_order_uncompressed(tmp_path: Path) -> None:
    """Over a real socket: the snapshot is compressed, each short update arrives once, in
    order, as a plain frame; a second device sees the same updates."""
    d = Driver(tmp_path)
    await d.setup(["Nguyễn Văn Chủ Tọa", "Trần Thị Đại Biểu", "Lê Văn Ba"])
    try:
        host, port = "127.0.0.1", d.server.port
        async with d.client() as c:
            await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
            readers = [await open_raw(host, port, d.tokens[who]) for who in ("d2", "d3")]
            snapshots = [await read_messages(r, 1) for r, _ in readers]
            for got in snapshots:
                assert got[0][0] is True  # compressed
            start = json.loads(zlib.decompressobj(wbits=-12).decompress(snapshots[0][0][1] + b"\x00\x00\xff\xff"))["position"]
            for n in range(10):
                if n % 2 == 0:
                    await c.post("/api/floor/grant", json={"to": d.ids["d2"]}, headers=d.h("d1"))
                else:
                    await c.post("/api/floor/end", json={}, headers=d.h("d1"))
            for r, w in readers:
                updates = await read_messages(r, 10)
                assert [rsv1 for rsv1, _ in updates] == [False] * 10
                messages = [json.loads(payload) for _, payload in updates]
                assert [m["position"] for m in messages] == list(range(start + 1, start + 11))
                speaking = [[s["participant_id"] for s in m["changed"]["floor"]["speaking"]] for m in messages]
                assert speaking == [[d.ids["d2"]], []] * 5
                w.close()
    finally:
        await d.server.stop()


async def open_raw(host: str, port: int, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A WebSocket handshake by hand (offering permessage-deflate), so each frame's RSV1 can be read."""
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /api/live HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12\r\n\r\n"
        ).encode()
    )
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert head.startswith(b"HTTP/1.1 101 "), head
    return reader, writer


async def read_messages(reader: asyncio.StreamReader, count: int) -> list[tuple[bool, bytes]]:
    """The next ``count`` frames: (RSV1, payload)."""
    out: list[tuple[bool, bytes]] = []
    for _ in range(count):
        b0, b1 = await asyncio.wait_for(reader.readexactly(2), 10)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(await reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await reader.readexactly(8), "big")
        out.append((bool(b0 & 0x40), await reader.readexactly(length)))
    return out
