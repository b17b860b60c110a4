"""Preparing the sitting the way a secretary would, then pairing every device.

Everything goes through the public API (pairing codes, participants, agenda,
documents) so a rehearsal also rehearses the secretary's preparation; documents are
ingested before step 1, as they are before a real sitting opens.
"""

from __future__ import annotations

import asyncio
import mimetypes
import random
from dataclasses import dataclass, field
from typing import Any

from .actors import Person, canonical_label
from .client import Api, Reply
from .model import Scenario
from .roster import generated_names

DEFAULT_BODY = "HĐND phường Diễn tập"
SITTING_TITLE = "Phiên họp thứ nhất"
PAIRING_PARALLEL = 16


class SetupFailed(Exception):
    """The appliance refused part of the preparation; the run cannot start."""

    def __init__(self, what: str, reply: Reply) -> None:
        self.what = what
        self.reply = reply
        super().__init__(f"{what}: {reply.status} {reply.code} — {reply.message()}")


@dataclass
class Member:
    """A simulated participant: its id on the appliance and its device's token."""

    person: Person
    participant_id: str | None = None
    token: str | None = None


@dataclass
class Cast:
    """Everyone in the scenario, by person, and back from participant ids."""

    members: dict[Person, Member] = field(default_factory=dict)
    by_id: dict[str, Person] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # the file's group id -> the appliance's

    def add(self, person: Person, participant_id: str | None, token: str | None) -> None:
        """Record one participant (a stranger has neither id nor token)."""
        self.members[person] = Member(person, participant_id, token)
        if participant_id is not None:
            self.by_id[participant_id] = person

    def token(self, person: Person) -> str | None:
        """The bearer token the person's device holds (None for a stranger)."""
        member = self.members.get(person)
        return member.token if member else None

    def participant_id(self, person: Person) -> str:
        """The appliance's id for a person; an unknown person gets an id nobody has."""
        member = self.members.get(person)
        if member is None or member.participant_id is None:
            return f"unknown-{person.kind}-{person.number}"
        return member.participant_id

    def person(self, participant_id: str) -> Person | str:
        """The person behind an id, or the id itself when it is nobody we created."""
        return self.by_id.get(participant_id, participant_id)


def _roles(scn: Scenario, rng: random.Random) -> list[tuple[Person, dict[str, Any]]]:
    setup = scn.setup
    names = list(setup.delegate_names or generated_names(setup.delegates, rng))
    people: list[tuple[Person, dict[str, Any]]] = []
    for seat, name in enumerate(names, start=1):
        role = {1: "chair", 2: "vice_chair"}.get(seat, "delegate")
        person = Person("delegate", seat)
        people.append((person, {"name": name, "role": role, "seat": seat}))
    guests = generated_names(setup.guests, rng)
    for n, name in enumerate(guests, start=1):
        # Generated names may repeat: two guests of one name are two people (``namesake``).
        spec = {"name": f"Khách mời {name}", "role": "guest", **({"namesake": True} if guests.count(name) > 1 else {})}
        people.append((Person("guest", n), spec))
    people.append((Person("technician"), {"name": "Kỹ thuật viên", "role": "technician"}))
    people.append((Person("display"), {"name": "Màn hình hội trường", "role": "display"}))
    # The hall display is the first live observer; `observers: N` adds N-1 more screens.
    for n in range(2, setup.observers + 1):
        people.append((Person("observer", n), {"name": f"Màn hình quan sát {n}", "role": "display"}))
    return people


async def prepare(
    api: Api, scn: Scenario, secretary_code: str, rehearsal: bool, rng: random.Random
) -> tuple[Cast, dict[str, str]]:
    """Pair the secretary, set up the session, pair everyone; return the cast and docs."""
    cast = Cast()
    paired = await _checked(
        api.call("POST", "/api/pair", json={"code": secretary_code}), "pairing the secretary"
    )
    secretary = paired["token"]
    cast.add(Person("secretary"), paired.get("participant", {}).get("id"), secretary)
    cast.add(Person("stranger"), None, None)
    setup = scn.setup
    await _checked(
        api.call(
            "POST",
            "/api/setup",
            secretary,
            json={
                "body": setup.body or DEFAULT_BODY,
                "session": scn.name,
                "sittings": [SITTING_TITLE],
                "rehearsal": rehearsal,
            },
        ),
        "setting up the session",
    )
    roles = _roles(scn, rng)
    created = await _checked(
        api.call(
            "POST",
            "/api/participants",
            secretary,
            json={"participants": [spec for _, spec in roles]},
        ),
        "adding participants",
    )
    listed = created.get("participants", [])
    if len(listed) != len(roles):
        raise SetupFailed("adding participants", Reply(200, created, b"wrong count"))
    ids = [(person, p["id"]) for (person, _), p in zip(roles, listed, strict=True)]
    cast.groups = await _groups(api, scn, secretary, dict(ids))
    documents = await _agenda(api, scn, secretary, cast.groups)
    gate = asyncio.Semaphore(PAIRING_PARALLEL)
    tokens = await asyncio.gather(*(_pair(api, secretary, pid, gate) for _, pid in ids))
    for (person, pid), token in zip(ids, tokens, strict=True):
        cast.add(person, pid, token)
    return cast, documents


async def _groups(api: Api, scn: Scenario, secretary: str, ids: dict[Person, str]) -> dict[str, str]:
    """Discussion groups, formed by hand as the secretary would; returns {file id: appliance id}."""
    if not scn.setup.groups:
        return {}
    rows = [
        {"name": g.name, "members": [ids[p] for p in g.members],
         **({"convener": ids[g.convener]} if g.convener else {})}
        for g in scn.setup.groups
    ]
    made = await _checked(api.call("POST", "/api/groups", secretary, json={"mode": "manual", "groups": rows}),
                          "forming the discussion groups")
    return {g.id: str(m["id"]) for g, m in zip(scn.setup.groups, made.get("groups", []), strict=True)}


async def _agenda(api: Api, scn: Scenario, secretary: str, groups: dict[str, str]) -> dict[str, str]:
    """Agenda items and their documents; returns {"1.2": document id}."""
    documents: dict[str, str] = {}
    for n, item in enumerate(scn.setup.agenda, start=1):
        await _checked(
            api.call("POST", "/api/agenda", secretary, json={"title": item.title}),
            f"adding agenda item {n}",
        )
        for k, path in enumerate(item.documents, start=1):
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            form = {"item": str(n)}
            if item.access:
                form["access"] = f"group:{groups[item.access]}" if item.access in groups else item.access
            answer = await _checked(
                api.call(
                    "POST",
                    "/api/documents",
                    secretary,
                    files={"file": (path.name, path.read_bytes(), kind)},
                    data=form,
                ),
                f"ingesting {path.name} for agenda item {n}",
            )
            documents[f"{n}.{k}"] = answer["document"]["id"]
    return documents


async def _pair(api: Api, secretary: str, participant_id: str, gate: asyncio.Semaphore) -> str:
    async with gate:
        issued = await _checked(
            api.call(
                "POST", "/api/pairing-codes", secretary, json={"participant_id": participant_id}
            ),
            f"issuing a pairing code for {participant_id}",
        )
        paired = await _checked(
            api.call("POST", "/api/pair", json={"code": issued["code"]}),
            f"pairing the device of {participant_id}",
        )
        return str(paired["token"])


async def _checked(call: Any, what: str) -> Any:
    reply: Reply = await call
    if not reply.ok or not isinstance(reply.body, dict):
        raise SetupFailed(what, reply)
    return reply.body


def label(person: Person | str, preferred: list[Person] | None = None) -> str:
    """How a report names someone: as the expectation wrote them, else canonically."""
    if isinstance(person, str):
        return person
    for wanted in preferred or []:
        if wanted == person and wanted.label:
            return wanted.label
    return person.label or canonical_label(person)
