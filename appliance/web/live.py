"""The live hub: one WebSocket per device, a snapshot on connect, then changed sections.

Sections are computed once per role for each publish (not per connection) — or, for
sections that differ between members of one role (groups), once per role and audience —
and each connection gets only the sections that changed for it, written to its socket at once
(``Connection.write``, appliance/web/live_wire.py) when nothing is waiting for it. Otherwise
the message waits in its queue for its sender task. A connection whose queue is full (a
device that stopped reading) is not allowed to grow memory: its queue is dropped for one
resync marker and it is skipped until it reads again, when the marker becomes a fresh
snapshot at the position of that moment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appliance.core.events import Event
from appliance.meeting.doc_rules import DOC_EVENT_SECTIONS
from appliance.meeting.doc_views import audience as doc_audience
from appliance.meeting.group_views import audience as group_audience
from appliance.meeting.groups import GROUP_EVENTS
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor
from appliance.meeting.views import me_view, section, section_names
from appliance.web.live_wire import shared_frame

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.live")

# Messages a connection may have waiting. Past it the queue holds one resync marker instead.
QUEUE_LIMIT = 256
# Ballots only move a progress counter: during a burst (500 delegates in one second) they
# are sent at most every COALESCE_S, not once per ballot to every device (500 x 500 sends).
# Any other event flushes them first, so a close never overtakes the ballots before it.
COALESCE_S = 0.1
COALESCED = frozenset({"ballot_cast", "ballot_corrected"})
# A section built for one snapshot serves the others at the same position for this long
# (and never past the next publish), in case something changes the view without an event.
BUILT_FOR_S = 1.0

# Which view sections an event can change.
EVENT_SECTIONS: dict[str, tuple[str, ...]] = {
    "session_set_up": ("body", "session", "sitting", "sittings"),
    "participant_added": ("participants", "body", "attendance"),
    "agenda_item_added": ("agenda",),
    "document_added": ("agenda", "documents"),
    "pairing_code_issued": (),
    "device_paired": (),
    "sitting_opened": ("sitting", "sittings", "floor", "attendance"),
    "sitting_closed": ("sitting", "sittings", "floor", "polls", "poll_progress"),
    "checked_in": ("attendance",),
    "checked_out": ("attendance",),
    "item_started": ("sitting",),
    "floor_requested": ("floor",),
    "floor_withdrawn": ("floor",),
    "floor_granted": ("floor",),
    "floor_ended": ("floor",),
    "poll_opened": ("polls", "poll_progress"),
    # A ballot moves only the progress of open polls, never the whole polls section.
    "ballot_cast": ("poll_progress",),
    "poll_closed": ("polls", "poll_progress"),
    "poll_settings": ("polls", "prepared", "poll_progress"),
    "ballot_corrected": ("poll_progress",),
    "poll_annulled": ("polls", "prepared", "poll_progress"),
    "poll_prepared": ("prepared",),
    "prepared_poll_removed": ("prepared",),
    "paper_counts_entered": ("polls",),
    "agenda_item_retitled": ("agenda",),
    **{name: ("groups",) for name in GROUP_EVENTS},
    "group_created": ("groups", "agenda", "documents", "presenting"),  # a member's group documents appear
    **DOC_EVENT_SECTIONS,
}

# Sections that differ between participants of one role (a group's messages and documents
# go to its members only): name -> what the section reads of the viewer besides role and
# permissions. Connections share a computation only when role, permissions AND this key
# are equal, so a section built for one member never reaches another member's device.
PER_AUDIENCE: dict[str, Callable[[SessionState, Actor], Hashable]] = {
    "groups": group_audience,
    "agenda": doc_audience,  # groups, and confidential documents one is named on
    "documents": doc_audience,
    "presenting": doc_audience,
}

_ME_EVENTS = {"checked_in", "checked_out", "ballot_cast", "sitting_opened", "sitting_closed"}


class Outbox(asyncio.Queue[str]):
    """A connection's waiting messages; a resync marker becomes a snapshot when it is taken."""

    def __init__(self, snapshot: Callable[[], str]) -> None:
        super().__init__(QUEUE_LIMIT)
        self._snapshot = snapshot
        self.stale = False  # a marker is waiting: updates would be superseded, so none are queued

    def resync(self) -> None:
        """Drop what is waiting for one marker: the next message taken is a snapshot."""
        while not self.empty():
            super().get_nowait()
        self.stale = True
        self.put_nowait(_RESYNC)

    def get_nowait(self) -> str:
        """The next message; the marker is built into a snapshot of the state right now."""
        message = super().get_nowait()
        if message is _RESYNC:
            self.stale = False
            return self._snapshot()
        return message


_RESYNC = "resync"  # the marker (compared by identity; no real message is this object)

# Writes a message to the socket now (with its prebuilt frame, or None); False if it cannot.
Writer = Callable[[str, bytes | None], bool]


@dataclass(eq=False)
class Connection:
    """One live device."""

    actor: Actor
    device: str
    queue: Outbox = field(init=False)
    last: dict[str, Any] = field(default_factory=dict)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    write: Writer | None = None  # None: every message goes through the queue (no uvicorn wire)
    sending: bool = False  # the sender task holds a message: a direct write would overtake it

    def deliver(self, message: str, frame: bytes | None) -> bool:
        """Write now if nothing is ahead of ``message``, else queue it; False when the queue is full."""
        if self.write is not None and not self.sending and self.queue.empty() and self.write(message, frame):
            return True
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            return False
        return True


class LiveHub:
    """Fans changes out to connected devices, filtered by role."""

    def __init__(self, appliance: Appliance) -> None:
        self.appliance = appliance
        self.connections: set[Connection] = set()
        self._held: list[Event] = []
        self._held_position = 0
        self._flush_at: asyncio.TimerHandle | None = None
        # The last value of each (section, audience) key: an equal new value is replaced by
        # the old object, so each connection's "did it change?" check is an identity check.
        self._previous: dict[tuple[Any, ...], Any] = {}
        # Sections built for snapshots at one position, until the next publish: 500 tablets
        # connecting at once build the participants list once, not 500 times (time, and heap
        # left fragmented by 500 throw-away copies).
        self._built: dict[tuple[Any, ...], Any] = {}
        self._built_at = (-1, 0.0)

    def connect(self, actor: Actor, device: str, write: Writer | None = None) -> Connection:
        """Register a connection and queue its snapshot."""
        conn = Connection(actor, device, write=write)
        conn.queue = Outbox(lambda: self._snapshot_message(conn))
        self.connections.add(conn)
        conn.queue.resync()
        return conn

    def disconnect(self, conn: Connection) -> None:
        """Forget a connection."""
        self.connections.discard(conn)
        conn.closed.set()

    def resync(self, conn: Connection, position: int) -> None:
        """A client that reconnected at ``position``: send a snapshot if it missed anything."""
        if position < self.appliance.state.position:
            conn.queue.resync()

    def _snapshot_message(self, conn: Connection) -> str:
        """The whole view for one connection, which from now on diffs against it."""
        state = self.appliance.state
        now = time.monotonic()
        if self._built_at[0] != state.position or now - self._built_at[1] > BUILT_FOR_S:
            self._built, self._built_at = {}, (state.position, now)
        view: dict[str, Any] = {"position": state.position}
        for name in section_names():
            # Keep the shared object of an equal section, not a copy per connection: 500
            # tablets each holding their own participants list was most of the live memory.
            key = self._cache_key(state, name, conn.actor)
            if key not in self._built:
                self._built[key] = self._shared(key, section(state, name, conn.actor))
            view[name] = self._built[key]
        view["me"] = me_view(state, conn.actor)
        conn.last = {name: view[name] for name in (*section_names(), "me")}
        return json.dumps({"type": "snapshot", "position": view["position"], "state": view}, ensure_ascii=False)

    def _shared(self, key: tuple[Any, ...], value: Any) -> Any:
        """The remembered object for ``key`` when equal to ``value``; else remember ``value``."""
        before = self._previous.get(key)
        if before is not None and before == value:
            return before
        self._previous[key] = value
        return value

    def publish(self, position: int, events: Iterable[Event]) -> None:
        """Send each connection the sections these events changed; ballots are coalesced."""
        events = list(events)
        if events and all(e.type in COALESCED for e in events):
            self._held += events
            self._held_position = position
            if self._flush_at is None:
                try:
                    self._flush_at = asyncio.get_running_loop().call_later(COALESCE_S, self.flush)
                except RuntimeError:  # no loop (a synchronous caller): send now
                    self.flush()
            return
        self.flush()
        self._publish_now(position, events)

    def flush(self) -> None:
        """Send the held ballot updates now."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        held, self._held = self._held, []
        if held:
            self._publish_now(self._held_position, held)

    def _publish_now(self, position: int, events: Iterable[Event]) -> None:
        """Send each connection the sections these events changed for it."""
        names: set[str] = set()
        touches_me = False
        for e in events:
            names.update(EVENT_SECTIONS.get(e.type, section_names()))
            touches_me = touches_me or e.type in _ME_EVENTS
        self._built = {}
        if not names and not touches_me:
            return
        state = self.appliance.state
        computed: dict[tuple[Any, ...], Any] = {}
        encoded: dict[tuple[Any, ...], tuple[str, bytes | None]] = {}
        # Hall displays first: the room watches them, and the writes below go out one socket
        # after another, so a display behind 500 tablets would show a result last.
        for conn in sorted(self.connections, key=lambda c: c.actor.role != "display"):
            if conn.queue.stale:
                continue  # its snapshot is built when it reads again, with these events in it
            keys = {name: self._cache_key(state, name, conn.actor) for name in names}
            for name, key in keys.items():
                if key not in computed:
                    computed[key] = self._shared(key, section(state, name, conn.actor))
            changed: dict[str, Any] = {}
            for n, k in keys.items():
                value, last = computed[k], conn.last.get(n)
                if last is value:
                    continue
                if last == value:
                    conn.last[n] = value  # adopt the shared object: next time is an identity check
                    continue
                changed[n] = value
            if touches_me:
                me = me_view(state, conn.actor)
                if conn.last.get("me") != me:
                    changed["me"] = me
            if not changed:
                continue
            conn.last.update(changed)
            # Equal sections make equal messages: encode (and frame) once per set of section keys.
            signature = None if "me" in changed else tuple(keys[n] for n in changed)
            out = encoded.get(signature) if signature is not None else None
            if out is None:
                message = json.dumps({"type": "update", "position": position, "changed": changed}, ensure_ascii=False)
                out = (message, shared_frame(message))
                if signature is not None:
                    encoded[signature] = out
            if not conn.deliver(*out):
                log.warning("slow live client resynced", extra={"device": conn.device})
                conn.queue.resync()

    @staticmethod
    def _cache_key(state: SessionState, name: str, actor: Actor) -> tuple[Any, ...]:
        audience = PER_AUDIENCE.get(name)
        if audience is None:
            return (name, actor.role, actor.permissions)
        return (name, actor.role, actor.permissions, audience(state, actor))

    async def close_all(self) -> None:
        """Close every live connection (shutdown, revocation)."""
        for conn in list(self.connections):
            self.disconnect(conn)
