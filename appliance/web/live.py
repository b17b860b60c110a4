"""The live hub: one WebSocket per device, a snapshot on connect, then changed sections.

Sections are computed once per role for each publish (not per connection) — or, for
sections that differ between members of one role (groups), once per role and audience —
and each connection gets only the sections that changed for it. A connection whose queue is
full is not allowed to grow memory: its queue is dropped and it gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
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
from appliance.meeting.views import me_view, section, section_names, view_for

if TYPE_CHECKING:
    from appliance.web.service import Appliance

log = logging.getLogger("phs.live")

QUEUE_LIMIT = 256
# Ballots only move a progress counter: during a burst (500 delegates in one second) they
# are sent at most every COALESCE_S, not once per ballot to every device (500 x 500 sends).
# Any other event flushes them first, so a close never overtakes the ballots before it.
COALESCE_S = 0.1
COALESCED = frozenset({"ballot_cast", "ballot_corrected"})

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
        self._held: list[Event] = []
        self._held_position = 0
        self._flush_at: asyncio.TimerHandle | None = None
        # The last value of each (section, audience) key: an equal new value is replaced by
        # the old object, so each connection's "did it change?" check is an identity check.
        self._previous: dict[tuple[Any, ...], Any] = {}

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
        if not names and not touches_me:
            return
        state = self.appliance.state
        computed: dict[tuple[Any, ...], Any] = {}
        encoded: dict[tuple[Any, ...], str] = {}
        # Hall displays first: the room watches them, and each send below is compressed and
        # written in queue order, so a display behind 500 tablets would show a result last.
        for conn in sorted(self.connections, key=lambda c: c.actor.role != "display"):
            keys = {name: self._cache_key(state, name, conn.actor) for name in names}
            for name, key in keys.items():
                if key not in computed:
                    value = section(state, name, conn.actor)
                    before = self._previous.get(key)
                    if before is not None and before == value:
                        value = before
                    else:
                        self._previous[key] = value
                    computed[key] = value
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
            # Equal sections make equal messages: encode once per set of section keys.
            signature = None if "me" in changed else tuple(keys[n] for n in changed)
            message = encoded.get(signature) if signature is not None else None
            if message is None:
                message = json.dumps({"type": "update", "position": position, "changed": changed}, ensure_ascii=False)
                if signature is not None:
                    encoded[signature] = message
            try:
                conn.queue.put_nowait(message)
            except asyncio.QueueFull:
                log.warning("slow live client resynced", extra={"device": conn.device})
                self._snapshot(conn)

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
