"""A small userspace TCP proxy that makes a bad Wi-Fi on purpose (the kernel's netem is
not available on these machines).

Per chunk it adds a delay with jitter, so requests on different connections overtake one
another (reordering as the application sees it); per connection it may reset the link
mid-stream (a lost association); and ``cut(seconds)`` holds every byte in both directions
for that long, like a Wi-Fi outage: connections stay open, nothing moves, and what was
held is delivered afterwards (TCP retransmits when the air comes back), so a client that
gave up and retried sees its first request arrive late as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field


@dataclass
class Chaos:
    """How bad the network is; can change while traffic flows."""

    delay_s: float = 0.0
    jitter_s: float = 0.0
    reset_p: float = 0.0  # per forwarded chunk: probability to reset the whole connection
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


@dataclass
class Stats:
    """What the proxy did, for the test's report."""

    connections: int = 0
    resets: int = 0
    chunks: int = 0
    held_during_cut: int = 0


class ChaosProxy:
    """Listens on ``listen``, forwards to ``target`` through ``chaos``."""

    def __init__(self, listen: tuple[str, int], target: tuple[str, int], chaos: Chaos) -> None:
        self.listen, self.target, self.chaos = listen, target, chaos
        self.stats = Stats()
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Start listening."""
        self._server = await asyncio.start_server(self._accept, *self.listen)

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def cut(self, seconds: float) -> None:
        """Hold all traffic for ``seconds`` (an outage), then let it through again."""
        self._open.clear()
        try:
            await asyncio.sleep(seconds)
        finally:
            self._open.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            self._tasks.discard(task)
            return
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, writer)),
            asyncio.create_task(self._pump(up_reader, writer, up_writer)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for p in pumps:
                p.cancel()
            for w in (writer, up_writer):
                w.close()
            self._tasks.discard(task)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, other: asyncio.StreamWriter) -> None:
        chaos = self.chaos
        while True:
            data = await src.read(65536)
            if not data:
                return
            self.stats.chunks += 1
            if chaos.reset_p and chaos.rng.random() < chaos.reset_p:
                self.stats.resets += 1
                for w in (dst, other):
                    w.transport.abort()
                return
            wait = chaos.delay_s + chaos.rng.random() * chaos.jitter_s
            if wait:
                await asyncio.sleep(wait)
            if not self._open.is_set():
                self.stats.held_during_cut += 1
                await self._open.wait()
            dst.write(data)
            await dst.drain()
