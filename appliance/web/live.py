"""The live hub: one WebSocket per device, a snapshot on connect, then changed sections.

Sections are computed once per role for each publish (not per connection) and each
connection gets only the sections that changed for it. A connection whose queue is
full is not allowed to grow memory: its queue is dropped and it gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appliance.core.events import Event
from appliance.meeting.roles import Actor
from appliance.meeting.views import me_view, section, section_names, view_for

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.live")

QUEUE_LIMIT = 256

# Which view sections an event can change.
EVENT_SECTIONS: dict[str, tuple[str, ...]] = {
    "session_set_up": ("body", "session", "sitting", "sittings"),
    "participant_added": ("participants", "body", "attendance"),
    "agenda_item_added": ("agenda",),
    "document_added": ("agenda", "documents"),
    "pairing_code_issued": (),
    "device_paired": (),
    "sitting_opened": ("sitting", "sittings", "floor", "attendance"),
    "sitting_closed": ("sitting", "sittings", "floor", "polls"),
    "checked_in": ("attendance",),
    "checked_out": ("attendance",),
    "item_started": ("sitting",),
    "floor_requested": ("floor",),
    "floor_withdrawn": ("floor",),
    "floor_granted": ("floor",),
    "floor_ended": ("floor",),
    "poll_opened": ("polls",),
    "ballot_cast": ("polls",),
    "poll_closed": ("polls",),
}

_ME_EVENTS = {"checked_in", "checked_out", "ballot_cast", "sitting_opened", "sitting_closed"}


@dataclass(eq=False)
class Connection:
    """One live device."""

    actor: Actor
    device: str
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    last: dict[str, Any] = field(default_factory=dict)
    closed: asyncio.Event = field(default_factory=asyncio.Event)


class LiveHub:
    """Fans changes out to connected devices, filtered by role."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.connections: set[Connection] = set()

    def connect(self, actor: Actor, device: str) -> Connection:
        """Register a connection and queue its snapshot."""
        conn = Connection(actor, device)
        self.connections.add(conn)
        self._snapshot(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        """Forget a connection."""
        self.connections.discard(conn)
        conn.closed.set()

    def resync(self, conn: Connection, position: int) -> None:
        """A client that reconnected at ``position``: send a snapshot if it missed anything."""
        if position < self.appliance.state.position:
            self._snapshot(conn)

    def _snapshot(self, conn: Connection) -> None:
        view = view_for(self.appliance.state, conn.actor)
        conn.last = {name: view[name] for name in (*section_names(), "me")}
        self._drain(conn)
        conn.queue.put_nowait(json.dumps({"type": "snapshot", "position": view["position"], "state": view}, ensure_ascii=False))

    @staticmethod
    def _drain(conn: Connection) -> None:
        while not conn.queue.empty():
            conn.queue.get_nowait()

    def publish(self, position: int, events: Iterable[Event]) -> None:
        """Send each connection the sections these events changed for it."""
        names: set[str] = set()
        touches_me = False
        for e in events:
            names.update(EVENT_SECTIONS.get(e.type, section_names()))
            touches_me = touches_me or e.type in _ME_EVENTS
        if not names and not touches_me:
            return
        state = self.appliance.state
        per_role: dict[tuple[str, frozenset[str]], dict[str, Any]] = {}
        for conn in list(self.connections):
            key = (conn.actor.role, conn.actor.permissions)
            sections = per_role.get(key)
            if sections is None:
                sections = {name: section(state, name, conn.actor) for name in names}
                per_role[key] = sections
            changed = {n: v for n, v in sections.items() if conn.last.get(n) != v}
            if touches_me:
                me = me_view(state, conn.actor)
                if conn.last.get("me") != me:
                    changed["me"] = me
            if not changed:
                continue
            conn.last.update(changed)
            message = json.dumps({"type": "update", "position": position, "changed": changed}, ensure_ascii=False)
            try:
                conn.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("slow live client resynced", extra={"device": conn.device})
                self._snapshot(conn)

    async def close_all(self) -> None:
        """Close every live connection (shutdown, revocation)."""
        for conn in list(self.connections):
            self.disconnect(conn)
