"""Playing one action step: each acting participant's requests, then the verdict.

SCENARIO.md fixes the verdict: without ``repeat`` every request must succeed (or,
with ``expect_error``, be refused with exactly that code); with ``repeat`` each
participant needs one success and every other answer must be that refusal. A
concurrent step shuffles its requests with the run's seed before sending them all at
once, so a seed replays one interleaving.

Each request is built anew for every participant and repeat: a note's id is the
client's choice (``annotate``), so each repeat is a new note. A document uploaded
during the sitting becomes "ITEM.K", K counting on from the item's documents so far,
in the order the uploads succeeded.
"""

from __future__ import annotations

import asyncio
import mimetypes
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .actors import Person
from .client import Api, Reply
from .model import Step
from .session import Cast, label

# Where a text note is pinned, in PDF points from the top left: inside every page size.
NOTE_AT = [36.0, 36.0]


class Request(NamedTuple):
    """One HTTP request of an action: JSON body, query, or a multipart form."""

    method: str
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None
    files: dict[str, Any] | None = None
    data: dict[str, str] | None = None


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
    """Method, path, JSON body and query (or form) of the step's action (CONTRACTS.md)."""
    args = step.args
    action = step.action
    made = _document_request(play, step) or _floor_request(play, step)
    if made is not None:
        return made
    if action == "open_sitting":
        return Request("POST", "/api/sitting/open", {"confirmed_wall": time.time()})
    if action == "close_sitting":
        return Request("POST", "/api/sitting/close", {})
    if action in ("check_in", "check_out"):
        return Request("POST", f"/api/attendance/{action.replace('_', '-')}", {})
    if action == "start_item":
        return Request("POST", "/api/agenda/current", {"item": args["item"]})
    if action == "request_floor":
        return Request("POST", "/api/floor/request", {"kind": args.get("kind", "speak")})
    if action == "withdraw_floor":
        return Request("POST", "/api/floor/withdraw", {})
    if action == "open_poll":
        body = {k: v for k, v in args.items() if k != "poll"}
        return Request("POST", "/api/polls", body)
    if action == "vote":
        ballot: dict[str, Any] = {k: args[k] for k in ("answer", "answers") if k in args}
        return Request("POST", f"/api/polls/{poll_id(play, args['poll'])}/ballots", ballot)
    if action == "annul_poll":
        body = {"reason": args["reason"], "repeat": "repeat_as" in args}
        return Request("POST", f"/api/polls/{poll_id(play, args['poll'])}/annul", body)
    if action == "close_poll":
        return Request("POST", f"/api/polls/{poll_id(play, args['poll'])}/close", {})
    if action == "post":
        return Request("POST", f"/api/groups/{group_id(play, args['group'])}/messages", {"text": args["text"]})
    if action in ("close_group", "reopen_group"):
        body = {"duration_s": args["duration_s"]} if "duration_s" in args else {}
        return Request("POST", f"/api/groups/{group_id(play, args['group'])}/{action.split('_')[0]}", body)
    raise ValueError(f"no request for action {action!r}")


def _floor_request(play: Play, step: Step) -> Request | None:
    args = step.args
    if step.action in ("grant_floor", "end_floor"):
        target = args["to"]
        to = target if isinstance(target, str) else play.cast.participant_id(target)
        return Request("POST", f"/api/floor/{step.action.split('_')[0]}", {"to": to})
    if step.action == "set_mic_mode":
        return Request("POST", "/api/floor/mic-mode", {k: args[k] for k in ("mode", "max_open") if k in args})
    if step.action == "move_request":
        body = {"participant_id": play.cast.participant_id(args["to"]), "direction": args["direction"]}
        return Request("POST", "/api/floor/move", body)
    if step.action == "extend_floor":
        seconds = float(args["s"])
        body = {"to": play.cast.participant_id(args["to"]), "seconds": int(seconds) if seconds.is_integer() else seconds}
        return Request("POST", "/api/floor/extend", body)
    return None


def _document_request(play: Play, step: Step) -> Request | None:
    args = step.args
    if step.action == "open_document":
        page = args.get("page", 1)
        return Request("GET", f"/api/documents/{doc_id(play, args['doc'])}/pages/{page}", params={"size": "tablet"})
    if step.action == "upload_document":
        path: Path = args["file"]
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        form = {"item": str(args["item"])}
        if "access" in args:
            access = args["access"]
            form["access"] = f"group:{play.cast.groups[access]}" if access in play.cast.groups else access
        if "password" in args:
            form["password"] = args["password"]
        return Request("POST", "/api/documents", files={"file": (path.name, path.read_bytes(), kind)}, data=form)
    if step.action == "annotate":
        note = {"document": doc_id(play, args["doc"]), "page": args.get("page", 1), "kind": "text",
                "at": NOTE_AT, "text": args["text"]}
        return Request("PUT", f"/api/annotations/scn-{uuid.uuid4().hex}", note)
    if step.action == "present_page":
        return Request("POST", f"/api/documents/{doc_id(play, args['doc'])}/present", {"page": args.get("page", 1)})
    return None


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
    times = step.repeat or 1
    jobs: list[tuple[Person, Callable[[], Awaitable[Reply]]]] = []
    for person in step.actors:
        token = play.cast.token(person)
        for _ in range(times):
            jobs.append((person, _sender(play.api, request_for(play, step), token)))
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
    if step.action == "upload_document":
        remember_documents(play, int(step.args["item"]), replies)
    return judge(step, answers)


def _sender(api: Api, req: Request, token: str | None) -> Callable[[], Awaitable[Reply]]:
    # Each call builds a new request, so each repeat gets its own Idempotency-Key.
    def send() -> Awaitable[Reply]:
        return api.call(req.method, req.path, token, json=req.json, files=req.files, data=req.data,
                        params=req.params)

    return send


def remember_documents(play: Play, item: int, replies: list[Reply]) -> None:
    """Each uploaded document becomes the item's next "ITEM.K"."""
    for reply in replies:
        document = reply.body.get("document") if reply.ok and isinstance(reply.body, dict) else None
        if isinstance(document, dict) and "id" in document and str(document["id"]) not in play.documents.values():
            count = sum(1 for ref in play.documents if ref.split(".")[0] == str(item))
            play.documents[f"{item}.{count + 1}"] = str(document["id"])


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
