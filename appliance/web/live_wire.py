"""The live channel's wire: the hub writes an update to every healthy socket in one loop.

Through ASGI, each message to each connection was a sender task waking up, a timeout
timer, Litestar's and uvicorn's send coroutines and one compression: for a floor update
to 1,000 tablets 3x the CPU of the ``websockets`` library's own ``broadcast()``. This is
uvicorn's ``websockets-sansio`` protocol with one addition, a synchronous writer put in
the connection's scope (``scope["extensions"][WIRE]``) for the hub to call, as
``broadcast()`` does. A socket whose transport buffer is over its high-water mark, or that
is closing, refuses the write: the hub queues for it instead (bounded, then a resync), and
its sender task takes the slow path with its timeout (appliance/web/live.py).

Messages under ``COMPRESS_FROM`` go out uncompressed — a frame with RSV1 clear is a
plain message on a permessage-deflate connection (RFC 7692, section 6) — as one frame
built once for every socket; a 370-byte update gains nothing on the air from deflate,
and skipping it saves one compression per tablet. Larger ones (snapshots, lists) are
compressed per connection as before.
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

WIRE = "phs.live_wire"  # the scope extension's name
COMPRESS_FROM = 1024  # bytes of UTF-8: shorter messages are sent uncompressed, one frame for all


def shared_frame(message: str) -> bytes | None:
    """The whole uncompressed text frame of a short message (the same bytes for every socket), else None."""
    data = message.encode()
    if len(data) >= COMPRESS_FROM:
        return None
    return Frame(Opcode.TEXT, data).serialize(mask=False)  # a server's frames are never masked


class Wire:
    """One socket's synchronous writer (what ``broadcast()`` does, for one connection)."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def write(self, message: str, frame: bytes | None) -> bool:
        """Write ``message`` now (``frame``: its prebuilt uncompressed frame); False when the socket cannot take it."""
        p = self._protocol
        if p.close_sent or p.disconnected or not p.writable.is_set() or p.transport.is_closing():
            return False
        if p.conn.state is not State.OPEN:
            return False
        if frame is not None:
            p.transport.write(frame)
        else:
            p.conn.send_text(message.encode())
            p.transport.write(b"".join(p.conn.data_to_send()))
        return True


class LiveWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's ``websockets-sansio`` protocol, plus the hub's writer in each accepted connection's scope."""

    def handle_connect(self, event: Any) -> None:
        """Build the scope as uvicorn does, then add the writer (the app has not run yet)."""
        super().handle_connect(event)
        scope: Any = getattr(self, "scope", None)  # only set when the handshake is being accepted
        if scope is not None:
            scope["extensions"][WIRE] = Wire(self)
