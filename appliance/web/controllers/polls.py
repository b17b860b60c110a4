"""Polls: open, vote, close, read."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post

from appliance.core.errors import refuse
from appliance.core.ids import new_id
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
