"""A session built by applying decided events, the way the server does."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.core.clock import FixedClock
from appliance.meeting.apply import apply
from appliance.meeting.decide import Command, decide
from appliance.meeting.model import SessionState
from appliance.meeting.poll_commands import secret_choice
from appliance.meeting.roles import PERMISSIONS, Actor

SECRETARY = Actor.for_role("sec", "secretary")
SYSTEM = Actor("system", "system", frozenset(PERMISSIONS))


class Sitting:
    """A tiny driver: run commands against a state with a fixed clock."""

    def __init__(self, delegates: int) -> None:
        self.state = SessionState()
        self.clock = FixedClock()
        self.position = 0
        self.run(SYSTEM, "setup", body="HĐND phường Thử", session="Kỳ họp thử")
        rows: list[dict[str, Any]] = [
            {"name": f"Đại biểu {i:02d}", "role": "chair" if i == 1 else "vice_chair" if i == 2 else "delegate", "seat": i}
            for i in range(1, delegates + 1)
        ]
        rows += [{"name": "Khách mời", "role": "guest"}, {"name": "Thư ký", "role": "secretary"}]
        ids = [f"d{i}" for i in range(1, delegates + 1)] + ["g1", "sec"]
        self.run(SYSTEM, "add_participants", participants=rows, ids=ids)
        self.run(SYSTEM, "add_agenda_item", title="Mục 1", id="i1")

    def actor(self, pid: str) -> Actor:
        """The actor of a participant."""
        return Actor.for_role(pid, self.state.participants[pid].role)

    def run(self, actor: Actor | str, command: str, **args: Any) -> list[Any]:
        """Decide and apply one command; returns its events."""
        who = self.actor(actor) if isinstance(actor, str) else actor
        poll = self.state.polls.get(str(args.get("poll_id"))) if command == "vote" else None
        # As the service does: a secret choice never enters an event; it goes to the box.
        secret = secret_choice(self.state, args) if poll is not None and poll.spec.get("method") == "secret" else None
        events = decide(self.state, who, Command(command, args), self.clock.now())
        if events:
            self.position += 1
            for e in events:
                apply(self.state, e, self.position)
            if secret is not None:
                self.state.add_secret_choice(str(args["poll_id"]), secret)
        return events

    def open_with(self, present: int) -> None:
        """Open the sitting and check in delegates 1..present."""
        self.run("d1", "open_sitting")
        for i in range(1, present + 1):
            self.run(f"d{i}", "check_in")


@pytest.fixture
def sitting30() -> Sitting:
    """A body of 30 delegates, a guest and a secretary."""
    return Sitting(30)
