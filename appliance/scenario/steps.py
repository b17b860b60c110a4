"""Playing one action step: each acting participant's requests, then the verdict.

SCENARIO.md fixes the verdict: without ``repeat`` every request must succeed (or,
with ``expect_error``, be refused with exactly that code); with ``repeat`` each
participant needs one success and every other answer must be that refusal. A
concurrent step shuffles its requests with the run's seed before sending them all at
once, so a seed replays one interleaving.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .actors import Person
from .client import Api, Reply
from .model import Step
from .session import Cast, label

Request = tuple[str, str, dict[str, Any] | None, dict[str, str] | None]


@dataclass
class Play:
    """What the steps share: the API, the cast, and local ids mapped to the server's."""

    api: Api
    cast: Cast
    documents: dict[str, str]
    polls: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a step: passed, and when not, what was expected and found."""

    ok: bool
    expected: Any = None
    found: Any = None
    message: str = ""


def request_for(play: Play, step: Step) -> Request:
    """Method, path, JSON body and query of the step's action (CONTRACTS.md)."""
    args = step.args
    action = step.action
    if action == "open_sitting":
        return "POST", "/api/sitting/open", {"confirmed_wall": time.time()}, None
    if action == "close_sitting":
        return "POST", "/api/sitting/close", {}, None
    if action in ("check_in", "check_out"):
        return "POST", f"/api/attendance/{action.replace('_', '-')}", {}, None
    if action == "start_item":
        return "POST", "/api/agenda/current", {"item": args["item"]}, None
    if action == "request_floor":
        return "POST", "/api/floor/request", {"kind": args.get("kind", "speak")}, None
    if action == "withdraw_floor":
        return "POST", "/api/floor/withdraw", {}, None
    if action in ("grant_floor", "end_floor"):
        target = args["to"]
        to = target if isinstance(target, str) else play.cast.participant_id(target)
        return "POST", f"/api/floor/{action.split('_')[0]}", {"to": to}, None
    if action == "set_mic_mode":
        return "POST", "/api/floor/mic-mode", {k: args[k] for k in ("mode", "max_open") if k in args}, None
    if action == "open_poll":
        body = {k: v for k, v in args.items() if k != "poll"}
        return "POST", "/api/polls", body, None
    if action == "vote":
        ballot: dict[str, Any] = {k: args[k] for k in ("answer", "answers") if k in args}
        return "POST", f"/api/polls/{poll_id(play, args['poll'])}/ballots", ballot, None
    if action == "annul_poll":
        body = {"reason": args["reason"], "repeat": "repeat_as" in args}
        return "POST", f"/api/polls/{poll_id(play, args['poll'])}/annul", body, None
    if action == "close_poll":
        return "POST", f"/api/polls/{poll_id(play, args['poll'])}/close", {}, None
    if action == "open_document":
        doc = doc_id(play, args["doc"])
        page = args.get("page", 1)
        return "GET", f"/api/documents/{doc}/pages/{page}", None, {"size": "tablet"}
    if action == "post":
        return "POST", f"/api/groups/{group_id(play, args['group'])}/messages", {"text": args["text"]}, None
    if action in ("close_group", "reopen_group"):
        body = {"duration_s": args["duration_s"]} if "duration_s" in args else {}
        return "POST", f"/api/groups/{group_id(play, args['group'])}/{action.split('_')[0]}", body, None
    raise ValueError(f"no request for action {action!r}")


def group_id(play: Play, local: str) -> str:
    """The appliance's id of the group the file calls ``local``; an id nobody has otherwise."""
    return play.cast.groups.get(local, f"missing-group-{local}")


def poll_id(play: Play, local: str) -> str:
    """The server's id of a poll the file calls ``local`` (itself if never opened)."""
    return play.polls.get(local, local)


def doc_id(play: Play, ref: str) -> str:
    """The server's id of document "1.2"; an id nobody has when the file lists none."""
    return play.documents.get(ref, f"missing-document-{ref}")


async def play_action(play: Play, step: Step, shuffle: Callable[[list[Any]], None]) -> Verdict:
    """Send the step's requests and judge the answers."""
    method, path, body, params = request_for(play, step)
    times = step.repeat or 1
    jobs: list[tuple[Person, Callable[[], Awaitable[Reply]]]] = []
    for person in step.actors:
        token = play.cast.token(person)
        for _ in range(times):
            jobs.append((person, _sender(play.api, method, path, token, body, params)))
    if step.concurrent:
        shuffle(jobs)
        replies = await asyncio.gather(*(send() for _, send in jobs))
    else:
        replies = [await send() for _, send in jobs]
    answers: dict[Person, list[Reply]] = {}
    for (person, _), reply in zip(jobs, replies, strict=True):
        answers.setdefault(person, []).append(reply)
    if step.action == "open_poll":
        _remember_poll(play, step, replies)
    if step.action == "annul_poll" and "repeat_as" in step.args:
        _remember_poll(play, step, replies, key="repeat", local=step.args["repeat_as"])
    return judge(step, answers)


def _sender(
    api: Api,
    method: str,
    path: str,
    token: str | None,
    body: dict[str, Any] | None,
    params: dict[str, str] | None,
) -> Callable[[], Awaitable[Reply]]:
    # Each call builds a new request, so each repeat gets its own Idempotency-Key.
    def send() -> Awaitable[Reply]:
        return api.call(method, path, token, json=body, params=params)

    return send


def _remember_poll(play: Play, step: Step, replies: list[Reply], key: str = "poll",
                   local: str | None = None) -> None:
    for reply in replies:
        poll = reply.body.get(key) if reply.ok and isinstance(reply.body, dict) else None
        if isinstance(poll, dict) and "id" in poll:
            play.polls[local or step.args["poll"]] = str(poll["id"])


def judge(step: Step, answers: dict[Person, list[Reply]]) -> Verdict:
    """Apply SCENARIO.md's rule for plain, ``expect_error`` and ``repeat`` steps."""
    wanted = step.expect_error or "ok"
    wrong: dict[str, Any] = {}
    notes: list[str] = []
    for person, replies in answers.items():
        codes = [reply.code for reply in replies]
        if step.repeat is None:
            if codes[0] != wanted:
                wrong[label(person)] = codes[0]
                notes.append(_explain(person, wanted, replies[0]))
            continue
        refused = [r for r in replies if not r.ok]
        good = "ok" in codes and (
            step.expect_error is None or all(r.code == step.expect_error for r in refused)
        )
        if not good:
            wrong[label(person)] = codes
            notes.append(f"{label(person)}: answers {codes}")
    if not wrong:
        return Verdict(True)
    expected: Any = wanted
    if step.repeat is not None:
        expected = f"at least one ok, the others {step.expect_error or 'anything'}"
    found: Any = next(iter(wrong.values())) if len(answers) == 1 else wrong
    return Verdict(False, expected, found, "; ".join(notes[:5]) + (" …" if len(notes) > 5 else ""))


def _explain(person: Person, wanted: str, reply: Reply) -> str:
    if wanted == "ok":
        return f"{label(person)} was refused: {reply.code} ({reply.message()})"
    if reply.ok:
        return f"{label(person)}: expected refusal {wanted}, but it succeeded"
    return f"{label(person)}: expected refusal {wanted}, got {reply.code} ({reply.message()})"
