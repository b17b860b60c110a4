"""Discussion groups: form them, talk in them, report back. Thin: the rules are in
``appliance.meeting.group_rules``; what a viewer may see is ``group_views``.

A group the caller may not see answers ``forbidden`` (not ``not_found``): its existence
is no secret — the chair announces the groups in the hall — only its discussion is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request, get, post

from appliance.core.errors import refuse
from appliance.meeting.group_model import Group
from appliance.meeting.group_rules import NOTE_ID, find_group
from appliance.meeting.group_views import (
    group_view,
    groups_section,
    may_see_group,
    may_see_messages,
    message_view,
)
from appliance.meeting.groups import minutes
from appliance.meeting.roles import Actor
from appliance.web.auth import actor_of
from appliance.web.controllers import body_dict, run

if TYPE_CHECKING:
    from appliance.web.service import Appliance


def _visible(request: Request[Any, Any, Any], group_id: str, *, messages: bool = False) -> Group:
    state = request.app.state.appliance.state
    group = find_group(state, group_id)
    actor = actor_of(request)
    allowed = may_see_messages(state, group, actor) if messages else may_see_group(state, group, actor)
    if not allowed:
        raise refuse("forbidden", "Bạn không thuộc nhóm thảo luận này.", "You are not a member of this group.")
    return group


def _view(request: Request[Any, Any, Any], group_id: str) -> dict[str, Any]:
    state = request.app.state.appliance.state
    return group_view(state, find_group(state, group_id), actor_of(request))


@get("/api/groups", opt={"permission": "group.read"})
async def list_groups(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The groups this device may see (the ``groups`` section of the view)."""
    section: dict[str, Any] = groups_section(request.app.state.appliance.state, actor_of(request))
    return section


@post("/api/groups", opt={"permission": "group.manage"}, status_code=200)
async def create_groups(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Form groups: from the delegates' teams, by hand, or split evenly."""
    body = body_dict(data)
    args: dict[str, Any] = {k: body.get(k) for k in ("mode", "item", "duration_s", "groups", "count", "members") if k in body}
    outcome = await run(request, "create_groups", args)
    return {"groups": [_view(request, gid) for gid in outcome.get("refs") or []], "position": outcome["position"]}


@get("/api/groups/{group_id:str}", opt={"permission": "group.read"})
async def read_group(request: Request[Any, Any, Any], group_id: str) -> dict[str, Any]:
    """One group: its status for those who form groups, its discussion for its members."""
    _visible(request, group_id)
    return {"group": _view(request, group_id)}


@get("/api/groups/{group_id:str}/messages", opt={"permission": "group.read"})
async def read_messages(request: Request[Any, Any, Any], group_id: str) -> dict[str, Any]:
    """Every message of a group, oldest first — members only."""
    group = _visible(request, group_id, messages=True)
    return {"messages": [message_view(m) for m in group.messages], "count": len(group.messages)}


@post("/api/groups/{group_id:str}/messages", opt={"permission": "group.take_part"}, status_code=200)
async def post_message(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """Write in the group; a resend with the same Idempotency-Key is posted once."""
    body = body_dict(data)
    check_shared_note(request.app.state.appliance, actor_of(request), group_id, body.get("ref"))
    outcome = await run(request, "post_group_message", post_args(group_id, body))
    group = find_group(request.app.state.appliance.state, group_id)
    found = next((m for m in group.messages if m.id == outcome.get("ref")), None)
    return {"message": message_view(found) if found else None, "position": outcome["position"]}


def check_shared_note(appliance: Appliance, actor: Actor, group_id: str, ref: Any) -> None:
    """A message may point at an annotation only when it is shared with this group, on that page.

    HTTP posts and live posts (``appliance.web.live_posts``) both pass here before the command.
    """
    if not isinstance(ref, dict) or not isinstance(ref.get("note"), str) or not NOTE_ID.match(ref["note"]):
        return  # no annotation, or a malformed id the rule refuses as invalid
    from appliance.web.doc_service import services

    state = appliance.state
    if not may_see_messages(state, find_group(state, group_id), actor):  # outsiders learn nothing of the group's notes
        raise refuse("forbidden", "Bạn không thuộc nhóm thảo luận này.", "You are not a member of this group.")

    note = services(appliance).notes.get(str(ref["note"]))
    if (
        note is None
        or note.get("deleted")
        or note.get("shared_with") != group_id
        or note.get("document") != ref.get("doc")
        or note.get("page") != ref.get("page", 1)
    ):
        raise refuse("not_found", "Không có ghi chú chung này trong nhóm.", "No such annotation shared with this group.")


def post_args(group_id: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The ``post_group_message`` arguments, built alike for HTTP and live (one fingerprint)."""
    return {"group_id": group_id, "text": body.get("text"), "ref": body.get("ref")}


async def _group_command(request: Request[Any, Any, Any], kind: str, group_id: str, args: dict[str, Any]) -> dict[str, Any]:
    outcome = await run(request, kind, {"group_id": group_id, **args})
    return {"group": _view(request, group_id), "position": outcome["position"]}


@post("/api/groups/{group_id:str}/close", opt={"permission": "group.manage"}, status_code=200)
async def close_group(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """End the discussion; the group takes no more messages."""
    return await _group_command(request, "close_group", group_id, {})


@post("/api/groups/{group_id:str}/reopen", opt={"permission": "group.manage"}, status_code=200)
async def reopen_group(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """Resume the discussion, optionally with a new time limit (``duration_s``)."""
    body = body_dict(data)
    return await _group_command(request, "reopen_group", group_id, {"duration_s": body.get("duration_s")})


@post("/api/groups/{group_id:str}/convener", opt={"permission": "group.manage"}, status_code=200)
async def set_convener(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """Name another member the convener (tổ trưởng)."""
    body = body_dict(data)
    return await _group_command(request, "set_group_convener", group_id, {"participant_id": body.get("participant_id")})


@post("/api/groups/{group_id:str}/notes", opt={"permission": "group.take_part"}, status_code=200)
async def edit_notes(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """The convener replaces the group's shared notes."""
    body = body_dict(data)
    return await _group_command(request, "edit_group_notes", group_id, {"text": body.get("text", "")})


@post("/api/groups/{group_id:str}/comments", opt={"permission": "group.take_part"}, status_code=200)
async def add_comment(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """A member comments on the notes."""
    body = body_dict(data)
    return await _group_command(request, "comment_group_notes", group_id, {"text": body.get("text")})


@post("/api/groups/{group_id:str}/conclusions", opt={"permission": "group.take_part"}, status_code=200)
async def submit_conclusions(request: Request[Any, Any, Any], group_id: str, data: Any = None) -> dict[str, Any]:
    """The convener reports the group's conclusions back to the hall."""
    body = body_dict(data)
    return await _group_command(request, "submit_group_conclusions", group_id, {"text": body.get("text")})


@get("/api/group-conclusions", opt={"permission": "group.read"})
async def conclusions(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Every visible group's conclusions side by side (the minutes read the same record)."""
    state = request.app.state.appliance.state
    actor = actor_of(request)
    visible = {g.id for g in state.groups.groups.values() if may_see_group(state, g, actor)}
    return {
        "conclusions": [row for row in minutes(state) if row["id"] in visible],
        "present_conclusions": state.groups.present_conclusions,
    }


@post("/api/group-conclusions/present", opt={"permission": "group.manage"}, status_code=200)
async def present_conclusions(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """Show the conclusions on the hall display (``{"show": true}``), or take them down."""
    body = body_dict(data)
    outcome = await run(request, "present_group_conclusions", {"show": body.get("show")})
    return {"present_conclusions": request.app.state.appliance.state.groups.present_conclusions, "position": outcome["position"]}


@post("/api/group-settings", opt={"permission": "session.manage"}, status_code=200)
async def settings(request: Request[Any, Any, Any], data: Any = None) -> dict[str, Any]:
    """The body's setting ``chair_sees_group_messages`` (default false)."""
    body = body_dict(data)
    outcome = await run(request, "set_group_settings", {"chair_sees_group_messages": body.get("chair_sees_group_messages")})
    board = request.app.state.appliance.state.groups
    return {"chair_sees_group_messages": board.chair_sees_group_messages, "position": outcome["position"]}


ROUTES = [
    list_groups,
    create_groups,
    read_group,
    read_messages,
    post_message,
    close_group,
    reopen_group,
    set_convener,
    edit_notes,
    add_comment,
    submit_conclusions,
    conclusions,
    present_conclusions,
    settings,
]
