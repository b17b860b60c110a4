"""Discussion groups: who may form, join, write in, close and report from a group.

Pure like ``decide``: the caller passes ``now``; ids are derived from the state so a
replayed or retried command names the same group and message.
"""

from __future__ import annotations

import re
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.meeting.decide import _clean, _text, handles
from appliance.meeting.group_model import Group
from appliance.meeting.groups import (
    GroupClosed,
    GroupCommentAdded,
    GroupConclusionsPresented,
    GroupConclusionsSubmitted,
    GroupConvenerSet,
    GroupCreated,
    GroupMessagePosted,
    GroupNotesEdited,
    GroupReopened,
    GroupSettingsChanged,
)
from appliance.meeting.model import SessionState
from appliance.meeting.roles import Actor

MAX_GROUPS = 100
NOTE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")  # as the documents' notes store names them
MAX_MESSAGES = 20_000  # per group; a day of lively discussion is a few hundred
MODES = ("teams", "manual", "split")


def find_group(state: SessionState, gid: Any) -> Group:
    """The group ``gid``, or ``not_found`` (SCENARIO.md: an unknown group)."""
    group = state.groups.groups.get(gid) if isinstance(gid, str) else None
    if group is None:
        raise refuse("not_found", "Không có nhóm thảo luận này.", "No such discussion group.")
    return group


def _member(group: Group, actor: Actor) -> str:
    """Only members take part; everyone else is refused as for a forbidden role."""
    pid = actor.participant_id
    if pid is None or pid not in group.members:
        raise refuse("forbidden", "Bạn không thuộc nhóm thảo luận này.", "You are not a member of this group.")
    return pid


def _convener(group: Group, actor: Actor) -> str:
    pid = _member(group, actor)
    if pid != group.convener:
        raise refuse("forbidden", "Chỉ tổ trưởng được thực hiện thao tác này.", "Only the group's convener may do this.")
    return pid


def _writable(group: Group, now: Stamp) -> None:
    if not group.open_at(now.wall):
        raise refuse("group_closed")


def _closes_at(args: dict[str, Any], now: Stamp) -> float | None:
    duration = args.get("duration_s")
    if duration is None:
        return None
    if isinstance(duration, bool) or not isinstance(duration, int | float) or not 10 <= duration <= 8 * 3600:
        raise refuse("invalid", "Thời gian thảo luận không hợp lệ (10 giây – 8 giờ).", "duration_s must be 10..28800.")
    return now.wall + float(duration)


def _delegates(state: SessionState, ids: Any, where: str) -> list[str]:
    """Member ids checked: delegates of the body (groups are tổ đại biểu), each once."""
    if not isinstance(ids, list) or not ids:
        raise refuse("invalid", f"{where}: danh sách thành viên trống.", f"{where}: the member list is empty.")
    out: list[str] = []
    for pid in ids:
        p = state.participants.get(pid) if isinstance(pid, str) else None
        if p is None:
            raise refuse("not_found", f"{where}: không tìm thấy thành viên.", f"{where}: no such participant.")
        if not p.is_delegate:
            raise refuse("invalid", f"{where}: chỉ đại biểu được vào nhóm.", f"{where}: only delegates join groups.")
        if pid in out:
            raise refuse("invalid", f"{where}: một thành viên được ghi hai lần.", f"{where}: a member is listed twice.")
        out.append(pid)
    return out


def _plan(state: SessionState, args: dict[str, Any]) -> list[tuple[str, list[str], str | None]]:
    """(name, members, convener) for each group the command asks for."""
    mode = args.get("mode", "manual")
    if mode not in MODES:
        raise refuse("invalid", "Cách chia nhóm không hợp lệ (teams, manual, split).", "mode must be teams, manual or split.")
    if mode == "teams":
        teams: dict[str, list[str]] = {}
        for p in state.delegates():  # by seat, so the first member is the lowest seat
            if p.team:
                teams.setdefault(p.team, []).append(p.id)
        if not teams:
            raise refuse("invalid", "Chưa có đại biểu nào thuộc tổ.", "No delegate has a team.")
        return [(name, ids, None) for name, ids in teams.items()]
    if mode == "split":
        count = args.get("count")
        pool = _delegates(state, args["members"], "members") if args.get("members") else [p.id for p in state.delegates()]
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= min(MAX_GROUPS, max(1, len(pool))):
            raise refuse("invalid", "Số nhóm không hợp lệ.", "count must be between 1 and the number of members.")
        size, extra = divmod(len(pool), count)
        plan: list[tuple[str, list[str], str | None]] = []
        start = 0
        for i in range(count):
            # Neighbouring seats discuss together; sizes differ by at most one.
            end = start + size + (1 if i < extra else 0)
            plan.append((f"Nhóm {i + 1}", pool[start:end], None))
            start = end
        return plan
    rows = args.get("groups")
    if not isinstance(rows, list) or not rows:
        raise refuse("invalid", "Danh sách nhóm trống.", "'groups' must be a non-empty list.")
    plan = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise refuse("invalid", f"Nhóm {i} không hợp lệ.", f"Group {i} is not valid.")
        members = _delegates(state, row.get("members"), f"Nhóm {i}")
        convener = row.get("convener")
        if convener is not None and convener not in members:
            raise refuse("invalid", f"Nhóm {i}: tổ trưởng phải là thành viên.", f"Group {i}: the convener must be a member.")
        plan.append((_text(row, "name", limit=200), members, convener))
    return plan


@handles("create_groups", "group.manage")
def _create(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    item = args.get("item")
    if item is not None and (isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= len(state.agenda)):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    plan = _plan(state, args)
    board = state.groups.groups
    if len(board) + len(plan) > MAX_GROUPS:
        raise refuse("invalid", f"Tối đa {MAX_GROUPS} nhóm.", f"At most {MAX_GROUPS} groups.")
    names = [_clean(name)[:200] for name, _, _ in plan]
    if len(set(names)) != len(names) or any(not n for n in names):
        raise refuse("invalid", "Tên nhóm trống hoặc trùng nhau.", "Group names must be given and distinct.")
    closes_at = _closes_at(args, now)
    out: list[Event] = []
    n = len(board)
    for name, (_, members, convener) in zip(names, plan, strict=True):
        n += 1
        while f"g{n}" in board:
            n += 1
        out.append(GroupCreated(f"g{n}", name, item, tuple(members), convener or members[0], now.wall, closes_at))
    return out


@handles("close_group", "group.manage")
def _close(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    group = find_group(state, args.get("group_id"))
    return [] if group.status == "closed" else [GroupClosed(group.id, now.wall)]


@handles("reopen_group", "group.manage")
def _reopen(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    group = find_group(state, args.get("group_id"))
    closes_at = _closes_at(args, now)
    if group.open_at(now.wall) and closes_at is None:
        return []  # a double tap on "reopen"
    return [GroupReopened(group.id, now.wall, closes_at)]


@handles("set_group_convener", "group.manage")
def _set_convener(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    group = find_group(state, args.get("group_id"))
    pid = args.get("participant_id")
    if not isinstance(pid, str) or pid not in group.members:
        raise refuse("invalid", "Tổ trưởng phải là thành viên của nhóm.", "The convener must be a member.")
    return [] if pid == group.convener else [GroupConvenerSet(group.id, pid)]


def _ref(state: SessionState, group: Group, actor: Actor, ref: Any) -> tuple[str | None, int | None, str | None]:
    """A document page a member may read (open to delegates, or this group's own documents),
    and optionally an annotation on it shared with the group. That the annotation exists and
    is shared with this group is checked at the edge, where the notes store lives."""
    if ref is None:
        return None, None, None
    if not isinstance(ref, dict):
        raise refuse("invalid", "Tham chiếu tài liệu không hợp lệ.", "ref must be {doc, page}.")
    doc_id = ref.get("doc")
    doc = state.documents.get(doc_id) if isinstance(doc_id, str) else None
    readable = doc is not None and (
        doc.access in ("public", "delegates", f"group:{group.id}")
        or (doc.access == "confidential" and actor.can("document.read.confidential"))
    )
    if doc is None or not readable:
        raise refuse("not_found", "Không có tài liệu này.", "No such document.")
    page = ref.get("page", 1)
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= doc.pages:
        raise refuse("not_found", "Không có trang này.", "No such page.")
    note = ref.get("note")
    if note is not None and (not isinstance(note, str) or not NOTE_ID.match(note)):
        raise refuse("invalid", "Ghi chú được dẫn không hợp lệ.", "ref.note must be an annotation id.")
    return doc.id, page, note


@handles("post_group_message", "group.take_part")
def _post(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    group = find_group(state, args.get("group_id"))
    pid = _member(group, actor)
    _writable(group, now)
    text = _text(args, "text", limit=2000)
    doc, page, note = _ref(state, group, actor, args.get("ref"))
    if len(group.messages) >= MAX_MESSAGES:
        raise refuse("invalid", "Nhóm đã có quá nhiều tin nhắn.", "The group has too many messages.")
    return [GroupMessagePosted(f"{group.id}-m{len(group.messages) + 1}", group.id, pid, text, now.wall, doc, page, note)]


@handles("edit_group_notes", "group.take_part")
def _edit_notes(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    group = find_group(state, args.get("group_id"))
    pid = _convener(group, actor)
    _writable(group, now)
    text = _text(args, "text", required=False, limit=20_000)
    return [] if text == group.notes else [GroupNotesEdited(group.id, text, now.wall, pid)]


@handles("comment_group_notes", "group.take_part")
def _comment(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    group = find_group(state, args.get("group_id"))
    pid = _member(group, actor)
    _writable(group, now)
    text = _text(args, "text", limit=2000)
    return [GroupCommentAdded(f"{group.id}-c{len(group.comments) + 1}", group.id, pid, text, now.wall)]


@handles("submit_group_conclusions", "group.take_part")
def _conclude(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    # Allowed after the discussion closed: reporting back is what closing leads to.
    group = find_group(state, args.get("group_id"))
    pid = _convener(group, actor)
    text = _text(args, "text", limit=10_000)
    return [GroupConclusionsSubmitted(group.id, text, now.wall, pid)]


@handles("present_group_conclusions", "group.manage")
def _present(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    show = args.get("show")
    if not isinstance(show, bool):
        raise refuse("invalid", "Trường 'show' phải là true hoặc false.", "'show' must be true or false.")
    return [] if show == state.groups.present_conclusions else [GroupConclusionsPresented(show, now.wall)]


@handles("set_group_settings", "session.manage")
def _settings(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    value = args.get("chair_sees_group_messages")
    if not isinstance(value, bool):
        raise refuse("invalid", "Trường 'chair_sees_group_messages' phải là true hoặc false.", "'chair_sees_group_messages' must be true or false.")
    return [] if value == state.groups.chair_sees_group_messages else [GroupSettingsChanged(value)]
