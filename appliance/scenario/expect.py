"""Checking an ``expect``: read what the named keys need, compare only those keys.

Values are read through the API as the acting participant sees them (the secretary
when no ``as`` is given), because what a role may see is part of what is tested.
State that moves on its own (microphones, the queue, live counts) is re-read for up
to two seconds before the expectation fails.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .actions import POLL_KEYS, VOLATILE_KEYS
from .actors import Person
from .client import Reply
from .model import Step
from .session import label
from .steps import Play, Verdict, doc_id, group_id, poll_id

SETTLE_S = 2.0
STATE_KEYS = frozenset({"present", "quorum", "speaking", "queue", "mics_open", "presenting", "allowances"})


def matches(expected: Any, found: Any) -> bool:
    """Named keys only, at every level; lists in order; numbers and strings exactly."""
    if isinstance(expected, dict):
        return isinstance(found, dict) and all(
            key in found and matches(value, found[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(found, list)
            and len(found) == len(expected)
            and all(matches(e, f) for e, f in zip(expected, found, strict=True))
        )
    if isinstance(expected, bool) or isinstance(found, bool):
        return type(expected) is type(found) and expected == found
    if isinstance(expected, int | float):
        return isinstance(found, int | float) and expected == found
    return bool(expected == found)


def project(expected: Any, found: Any) -> Any:
    """The found value cut to the expectation's shape, so a report stays readable."""
    if isinstance(expected, dict) and isinstance(found, dict):
        return {key: project(value, found.get(key)) for key, value in expected.items()}
    return found


def render(value: Any, preferred: list[Person] | None = None) -> Any:
    """Participants back into the words of ``as`` for reports."""
    if isinstance(value, Person):
        return label(value, preferred)
    if isinstance(value, list):
        return [render(item, preferred) for item in value]
    if isinstance(value, dict):
        return {render(key, preferred): render(item, preferred) for key, item in value.items()}
    return value


async def check(play: Play, step: Step) -> Verdict:
    """Read and compare, re-reading volatile state until it settles or time runs out."""
    expected = step.expect or {}
    deadline = time.monotonic() + (SETTLE_S if VOLATILE_KEYS & expected.keys() else 0.0)
    while True:
        found, problems = await read(play, step)
        failing = [key for key in expected if not matches(expected[key], found.get(key))]
        if not failing or time.monotonic() >= deadline:
            break
        await asyncio.sleep(0.1)
    if not failing:
        return Verdict(True)
    people = [p for key in expected for p in _people(expected[key])]
    shown_expected = {key: render(expected[key]) for key in failing}
    shown_found = {key: render(project(expected[key], found.get(key)), people) for key in failing}
    message = "; ".join(problems) or f"{', '.join(failing)} differ"
    return Verdict(False, shown_expected, shown_found, message)


def _people(value: Any) -> list[Person]:
    return [v for v in value if isinstance(v, Person)] if isinstance(value, list | dict) else []


async def read(play: Play, step: Step) -> tuple[dict[str, Any], list[str]]:
    """The current value of every key the expectation names."""
    expected = step.expect or {}
    actor = step.actors[0] if step.actors else Person("secretary")
    token = play.cast.token(actor)
    found: dict[str, Any] = {}
    problems: list[str] = []

    async def get(path: str, what: str) -> dict[str, Any] | None:
        reply: Reply = await play.api.call("GET", path, token)
        if reply.ok and isinstance(reply.body, dict):
            return reply.body
        problems.append(f"reading {what} as {label(actor)}: {reply.code} ({reply.message()})")
        return None

    if STATE_KEYS & expected.keys():
        state = await get("/api/state", "the state")
        _from_state(play, state, expected, found)
    if "poll" in expected:
        body = await get(f"/api/polls/{poll_id(play, expected['poll'])}", "the poll")
        _from_poll(body, expected, found, problems)
    if "document" in expected:
        body = await get(f"/api/documents/{doc_id(play, expected['document'])}", "the document")
        document = body.get("document") if body else None
        if isinstance(document, dict):
            found["document"] = expected["document"]
            pages = document.get("pages")
            found["pages"] = len(pages) if isinstance(pages, list) else pages
    if "visible_documents" in expected:
        body = await get("/api/documents", "the documents")
        if body is not None:
            found["visible_documents"] = len(body.get("documents") or [])
    if "notes" in expected:
        found["notes"] = await _own_notes(play, token, problems, label(actor))
    if "group" in expected:
        reply = await play.api.call("GET", f"/api/groups/{group_id(play, expected['group'])}/messages", token)
        if reply.ok and isinstance(reply.body, dict):
            found["group"], found["messages"] = expected["group"], reply.body.get("count")
        elif reply.code == "forbidden":  # a non-member sees none of a group's messages
            found["group"], found["messages"] = expected["group"], 0
        else:
            problems.append(f"reading group {expected['group']} as {label(actor)}: {reply.code} ({reply.message()})")
    if "journal_verifies" in expected:
        body = await get("/api/journal/verify", "the journal check")
        if body is not None:
            found["journal_verifies"] = body.get("ok")
            if body.get("ok") is not True:
                problems.append(f"journal check: {body.get('problems')}")
    return found, problems


async def _own_notes(play: Play, token: str | None, problems: list[str], who: str) -> int | None:
    """The acting participant's live notes on every document they see; none without note.write."""
    listed = await play.api.call("GET", "/api/documents", token)
    if not listed.ok or not isinstance(listed.body, dict):
        problems.append(f"reading the documents as {who}: {listed.code} ({listed.message()})")
        return None
    count = 0
    for document in listed.body.get("documents") or []:
        reply = await play.api.call("GET", "/api/annotations", token, params={"document": str(document["id"])})
        if reply.code == "forbidden":  # a role that may not write notes has none
            return 0
        if not reply.ok or not isinstance(reply.body, dict):
            problems.append(f"reading the notes as {who}: {reply.code} ({reply.message()})")
            return None
        count += sum(1 for n in reply.body.get("annotations") or [] if n.get("mine") and not n.get("deleted"))
    return count


def _from_state(
    play: Play, state: dict[str, Any] | None, expected: dict[str, Any], found: dict[str, Any]
) -> None:
    if state is None:
        return
    attendance = state.get("attendance") or {}
    floor = state.get("floor") or {}
    if "present" in expected:
        found["present"] = attendance.get("present")
    if "quorum" in expected:
        found["quorum"] = attendance.get("quorum")
    for key in ("speaking", "queue", "mics_open"):
        if key in expected:
            entries = floor.get(key) or []
            ids = [e.get("participant_id") if isinstance(e, dict) else e for e in entries]
            found[key] = [play.cast.person(str(pid)) for pid in ids]
    if "allowances" in expected:
        found["allowances"] = {
            play.cast.person(str(e.get("participant_id"))): e.get("limit_s")
            for e in floor.get("speaking") or []
            if isinstance(e, dict)
        }
    if "presenting" in expected:
        shown = state.get("presenting")
        refs = {server: local for local, server in play.documents.items()}
        found["presenting"] = (
            {"doc": refs.get(str(shown.get("document")), shown.get("document")), "page": shown.get("page")}
            if isinstance(shown, dict)
            else None
        )


def _from_poll(
    body: dict[str, Any] | None,
    expected: dict[str, Any],
    found: dict[str, Any],
    problems: list[str],
) -> None:
    poll = body.get("poll") if body else None
    if not isinstance(poll, dict):
        return
    found["poll"] = expected["poll"]
    result = poll.get("result")
    if "annulled" in expected:
        found["annulled"] = poll.get("annulled")
    if "turnout" in expected:
        found["turnout"] = result.get("turnout") if isinstance(result, dict) else poll.get("voted")
    if not isinstance(result, dict):
        if (POLL_KEYS - {"turnout", "annulled"}) & expected.keys():
            problems.append(f"poll {expected['poll']} has no result yet (is it still open?)")
        return
    for key in POLL_KEYS - {"turnout", "annulled"}:
        if key in expected:
            found[key] = result.get(key)
