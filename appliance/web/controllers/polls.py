"""Polls: open, vote, close, read."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post

from appliance.core.errors import refuse
from appliance.core.ids import new_id
from appliance.meeting.poll_views import prepared_section
from appliance.meeting.views import poll_view
from appliance.web.auth import actor_of
from appliance.web.controllers import body_dict, run


def _poll(request: Request[Any, Any, Any], poll_id: str) -> dict[str, Any]:
    state = request.app.state.appliance.state
    poll = state.polls.get(poll_id)
    if poll is None:
        raise refuse("not_found", "Không có lượt biểu quyết này.", "No such poll.")
    return poll_view(state, poll, actor_of(request))


@post("/api/polls", opt={"permission": "poll.manage"}, status_code=200)
async def open_poll(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The chair opens a vote."""
    body = body_dict(data)
    body["poll_id"] = new_id("poll_")
    outcome = await run(request, "open_poll", body)
    poll_id = str(outcome.get("ref") or body["poll_id"])  # a retry names the first request's poll
    return {"poll": _poll(request, poll_id), "position": outcome["position"]}


@get("/api/polls/{poll_id:str}", opt={"permission": "view"})
async def read_poll(request: Request[Any, Any, Any], poll_id: str) -> dict[str, Any]:
    """A poll with its live count, and its result once closed."""
    return {"poll": _poll(request, poll_id)}


@post("/api/polls/{poll_id:str}/ballots", opt={"permission": "poll.vote"}, status_code=200)
async def vote(request: Request[Any, Any, Any], poll_id: str, data: Any = None) -> dict[str, Any]:
    """Cast a ballot; it is acknowledged only once durable."""
    body = body_dict(data)
    args = {"poll_id": poll_id, "answer": body.get("answer"), "answers": body.get("answers")}
    outcome = await run(request, "vote", args)
    return {"ok": True, "position": outcome["position"]}


@post("/api/polls/{poll_id:str}/close", opt={"permission": "poll.manage"}, status_code=200)
async def close_poll(request: Request[Any, Any, Any], poll_id: str, data: Any = None) -> dict[str, Any]:
    """Close a vote; the result is fixed."""
    await run(request, "close_poll", {"poll_id": poll_id})
    return {"poll": _poll(request, poll_id)}


@post("/api/polls/{poll_id:str}/annul", opt={"permission": "poll.manage"}, status_code=200)
async def annul_poll(request: Request[Any, Any, Any], poll_id: str, data: Any = None) -> dict[str, Any]:
    """Annul a poll with a reason (its record stays, flagged) and, unless told not to, repeat it."""
    body = body_dict(data)
    args = {"poll_id": poll_id, "reason": body.get("reason"), "repeat": body.get("repeat", True),
            "new_poll_id": new_id("poll_")}
    outcome = await run(request, "annul_poll", args)
    refs = [r for r in outcome.get("refs") or [] if r != poll_id]
    repeat = _poll(request, refs[0]) if refs else None
    return {"poll": _poll(request, poll_id), "repeat": repeat}


@get("/api/polls/prepared", opt={"permission": "poll.prepare"})
async def list_prepared(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The prepared polls, by agenda item and series step."""
    appliance = request.app.state.appliance
    return {"prepared": prepared_section(appliance.state, actor_of(request))}


@post("/api/polls/prepared", opt={"permission": "poll.prepare"}, status_code=200)
async def prepare_poll(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The secretary prepares a poll for an agenda item (same fields as opening one, plus ``item``)."""
    body = body_dict(data)
    body["id"] = new_id("prep_")
    outcome = await run(request, "prepare_poll", body)
    return {"id": outcome.get("ref") or body["id"], "position": outcome["position"]}


@post("/api/polls/series", opt={"permission": "poll.prepare"}, status_code=200)
async def prepare_series(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """A draft resolution voted article by article, then as a whole: one prepared poll per step."""
    body = body_dict(data)
    articles = body.get("articles")
    count = len(articles) if isinstance(articles, list) else 0
    body["series"] = new_id("series_")
    body["ids"] = [new_id("prep_") for _ in range(count + 1)]
    outcome = await run(request, "prepare_series", body)
    return {"series": body["series"], "ids": outcome.get("refs") or body["ids"], "position": outcome["position"]}


@post("/api/polls/prepared/{prepared_id:str}/open", opt={"permission": "poll.manage"}, status_code=200)
async def open_prepared(request: Request[Any, Any, Any], prepared_id: str, data: Any = None) -> dict[str, Any]:
    """The chair's one tap on a prepared poll."""
    args = {"prepared_id": prepared_id, "poll_id": new_id("poll_")}
    outcome = await run(request, "open_prepared", args)
    return {"poll": _poll(request, str(outcome.get("ref") or args["poll_id"])), "position": outcome["position"]}


@post("/api/polls/prepared/{prepared_id:str}/remove", opt={"permission": "poll.prepare"}, status_code=200)
async def remove_prepared(request: Request[Any, Any, Any], prepared_id: str, data: Any = None) -> dict[str, Any]:
    """Take a prepared poll off the list."""
    outcome = await run(request, "remove_prepared", {"prepared_id": prepared_id})
    return {"ok": True, "position": outcome["position"]}


@post("/api/polls/paper", opt={"permission": "poll.prepare"}, status_code=200)
async def paper_result(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The counts of a paper ballot (kiểm phiếu), invalid ballots included, as a closed poll."""
    body = body_dict(data)
    body["poll_id"] = new_id("poll_")
    outcome = await run(request, "enter_paper_result", body)
    return {"poll": _poll(request, str(outcome.get("ref") or body["poll_id"])), "position": outcome["position"]}


LIFECYCLE_ROUTES = [annul_poll, list_prepared, prepare_poll, prepare_series, open_prepared, remove_prepared,
                    paper_result]
