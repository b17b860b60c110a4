"""The floor — quyền phát biểu: requests, rebuttals, grants, speaking time and microphones.

Rules of the hall, as the chair runs it:

- A delegate asks to speak or to rebut (tranh luận). Each kind waits in arrival order
  and rebuttals go ahead of ordinary requests; the chair may move a request up or down
  within its kind. Requests belong to the agenda item they were made under: starting
  another item shows that item's list, and coming back shows the old one again.
- The chair grants the floor to the next, to a named delegate (or guest), or to
  themself: the chair and the vice chair may always speak without asking.
- Every speech has a time allowance by kind (report, speak, rebuttal) from the body's
  settings or the item's; the chair may extend it; the time actually spoken is
  recorded from the monotonic clock whenever a speech ends, however it ends.
- Which microphones may be open is the microphone policy's call (``microphones.py``).

Appliers and the view section live in ``floor_state.py``.
"""

from __future__ import annotations

from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.meeting import events as ev
from appliance.meeting import microphones as mics
from appliance.meeting.decide import _delegate_actor, _open_sitting, _participant, handles
from appliance.meeting.model import FloorEntry, SessionState
from appliance.meeting.roles import Actor

PRESIDING = frozenset({"chair", "vice_chair"})
KINDS = ("speak", "rebuttal", "report")
REQUEST_KINDS = ("speak", "rebuttal")
MAX_EXTENSION_S = 3600


# -- reading the floor -----------------------------------------------------------


def current_item(state: SessionState) -> int | None:
    """The agenda item the sitting is on (requests are kept per item)."""
    sitting = state.sitting()
    return sitting.current_item if sitting else None


def waiting(state: SessionState) -> list[FloorEntry]:
    """Requests of the current item in the order the chair would grant them."""
    item = current_item(state)
    mine = [e for e in state.floor.queue if e.item == item]
    return sorted(mine, key=lambda e: (e.kind != "rebuttal", e.seq))


def queue_order(state: SessionState) -> list[str]:
    """Participant ids in granting order: rebuttals first, each kind in its own order."""
    return [e.participant_id for e in waiting(state)]


def lists_by_item(state: SessionState) -> dict[str, list[str]]:
    """Every item's waiting list, for the chair who returns to an earlier item."""
    out: dict[str, list[FloorEntry]] = {}
    for e in state.floor.queue:
        out.setdefault(str(e.item), []).append(e)
    return {k: [e.participant_id for e in sorted(v, key=lambda e: (e.kind != "rebuttal", e.seq))] for k, v in out.items()}


def policy(state: SessionState) -> mics.Policy:
    """The hall's microphone policy now."""
    return mics.Policy(state.floor.mic_mode, state.floor.max_open)


def presiding(state: SessionState, pid: str) -> bool:
    """Whether the participant presides (their microphone is never counted or displaced)."""
    p = state.participants.get(pid)
    return p is not None and p.role in PRESIDING


def open_mics(state: SessionState) -> list[mics.Mic]:
    """Open microphones, oldest first, as the policy module sees them."""
    return [mics.Mic(e.participant_id, presiding(state, e.participant_id)) for e in state.floor.speaking]


def limit_for(state: SessionState, pid: str, kind: str) -> float | None:
    """The time allowed for a speech: the item's setting, else the body's; none for the chair."""
    if presiding(state, pid) and kind != "report":
        return None
    item = current_item(state)
    per_item = state.floor.item_limits.get(str(item), {}) if item is not None else {}
    value = per_item.get(kind, state.floor.limits.get(kind))
    return float(value) if value else None


def ended(entry: FloorEntry, now: Stamp) -> ev.FloorEnded:
    """The end of a speech with the seconds actually spoken (monotonic, to the millisecond)."""
    return ev.FloorEnded(entry.participant_id, now.wall, round(now.mono - entry.mono, 3))


def _speech(state: SessionState, pid: str) -> FloorEntry | None:
    return next((e for e in state.floor.speaking if e.participant_id == pid), None)


def _request(state: SessionState, pid: str) -> FloorEntry | None:
    item = current_item(state)
    return next((e for e in state.floor.queue if e.participant_id == pid and e.item == item), None)


def _closing(state: SessionState, pids: tuple[str, ...], now: Stamp) -> list[Event]:
    return [ended(e, now) for e in state.floor.speaking if e.participant_id in pids]


def _granted(state: SessionState, pid: str, kind: str, now: Stamp) -> ev.FloorGranted:
    return ev.FloorGranted(pid, kind, now.wall, now.mono, limit_for(state, pid, kind))


def _promotions(state: SessionState, closed: set[str], now: Stamp) -> list[Event]:
    """In ``open`` mode, queued delegates take the microphones that just closed, in order."""
    still = [m for m in open_mics(state) if m.participant_id not in closed]
    order = [e for e in waiting(state) if e.participant_id not in closed]
    chosen = mics.promote(policy(state), still, [e.participant_id for e in order])
    kinds = {e.participant_id: e.kind for e in order}
    return [_granted(state, pid, kinds[pid], now) for pid in chosen]


def leave(state: SessionState, pid: str, now: Stamp) -> list[Event]:
    """A delegate leaves the hall (checks out): their speech ends and their requests go."""
    out: list[Event] = []
    speech = _speech(state, pid)
    if speech is not None:
        out.append(ended(speech, now))
    if any(e.participant_id == pid for e in state.floor.queue):
        out.append(ev.FloorWithdrawn(pid, now.wall))
    if speech is not None:
        out += _promotions(state, {pid}, now)
    return out


# -- delegates ---------------------------------------------------------------------


@handles("request_floor", "floor.request")
def _request_floor(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _delegate_actor(state, actor)
    _open_sitting(state)
    kind = args.get("kind", "speak")
    if kind not in REQUEST_KINDS:
        raise refuse("invalid", "Loại đăng ký không hợp lệ.", "kind must be speak or rebuttal.")
    if _request(state, pid) is not None or _speech(state, pid) is not None:
        return []  # a double tap or a concurrent duplicate yields one entry
    decision = mics.press(policy(state), open_mics(state), mics.Mic(pid, presiding(state, pid)))
    if decision.open is not None:
        return [*_closing(state, decision.close, now), _granted(state, pid, kind, now)]
    seq = max((e.seq for e in state.floor.queue), default=0.0) + 1.0
    return [ev.FloorRequested(pid, kind, now.wall, now.mono, current_item(state), seq)]


@handles("withdraw_floor", "floor.request")
def _withdraw(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _delegate_actor(state, actor)
    if _request(state, pid) is None:
        raise refuse("not_found", "Bạn chưa đăng ký phát biểu.", "You have no request to withdraw.")
    return [ev.FloorWithdrawn(pid, now.wall)]


@handles("stop_speaking", "floor.request")
def _stop(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _delegate_actor(state, actor)
    speech = _speech(state, pid)
    if speech is None:
        raise refuse("not_found", "Bạn không đang phát biểu.", "You are not speaking.")
    return [ended(speech, now), *_promotions(state, {pid}, now)]


@handles("unit_press", "floor.request")
def _unit_press(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """The request button of a delegate unit toggles: ask, cancel the request, or switch off."""
    pid = _delegate_actor(state, actor)
    if _speech(state, pid) is not None:
        return _stop(state, actor, {}, now)
    if _request(state, pid) is not None:
        return _withdraw(state, actor, {}, now)
    return _request_floor(state, actor, {"kind": args.get("kind", "speak")}, now)


# -- the chair -----------------------------------------------------------------------


@handles("grant_floor", "floor.manage")
def _grant(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    _open_sitting(state)
    to = args.get("to", "next")
    if to == "next":
        order = waiting(state)
        if not order:
            raise refuse("not_found", "Không có ai đăng ký phát biểu.", "Nobody is waiting for the floor.")
        pid = order[0].participant_id
    else:
        pid = _participant(state, actor.participant_id if to == "self" else to)
        if not state.participants[pid].is_delegate and state.participants[pid].role != "guest":
            raise refuse("invalid", "Chỉ đại biểu hoặc khách mời được phát biểu.", "Only delegates or guests may speak.")
    if _speech(state, pid) is not None:
        return []
    request = _request(state, pid)
    kind = args.get("kind") or (request.kind if request else "speak")
    if kind not in KINDS:
        raise refuse("invalid", "Loại phát biểu không hợp lệ.", "kind must be speak, rebuttal or report.")
    decision = mics.grant(policy(state), open_mics(state), mics.Mic(pid, presiding(state, pid)))
    if decision.refuse:
        raise refuse(
            decision.refuse,
            "Đang ở chế độ chỉ micro chủ tọa: hãy đổi chế độ micro trước.",
            "Only the chair's microphone may open in this mode: change the microphone mode first.",
        )
    return [*_closing(state, decision.close, now), _granted(state, pid, str(kind), now)]


@handles("end_floor", "floor.manage")
def _end(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    to = args.get("to", "all")
    speaking = list(state.floor.speaking)
    if to != "all":
        pid = _participant(state, to)
        speaking = [e for e in speaking if e.participant_id == pid]
        if not speaking:
            raise refuse("not_found", "Người này không đang phát biểu.", "That participant is not speaking.")
        if args.get("if_over") and not _over(speaking[0], now):
            return []  # the timer fired for an allowance that was extended meanwhile
    out: list[Event] = [ended(e, now) for e in speaking]
    if to != "all":
        out += _promotions(state, {e.participant_id for e in speaking}, now)
    return out


def _over(entry: FloorEntry, now: Stamp) -> bool:
    return entry.limit_s is not None and now.mono - entry.mono >= entry.limit_s


@handles("move_request", "floor.manage")
def _move(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Move a request one place up or down among requests of its kind."""
    pid = _participant(state, args.get("participant_id"))
    request = _request(state, pid)
    if request is None:
        raise refuse("not_found", "Người này không có trong danh sách chờ.", "That participant is not waiting.")
    direction = args.get("direction")
    if direction not in ("up", "down"):
        raise refuse("invalid", "Hướng di chuyển phải là up hoặc down.", "direction must be up or down.")
    same = [e for e in waiting(state) if e.kind == request.kind]
    i = same.index(request)
    j = i - 1 if direction == "up" else i + 1
    if not 0 <= j < len(same):
        return []  # already first (or last) of its kind
    # Land between the neighbour and the one beyond it, so nobody else moves.
    beyond = j - 1 if direction == "up" else j + 1
    edge = same[beyond].seq if 0 <= beyond < len(same) else same[j].seq + (-1.0 if direction == "up" else 1.0)
    return [ev.FloorMoved(pid, request.item, (same[j].seq + edge) / 2)]


@handles("extend_floor", "floor.manage")
def _extend(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _participant(state, args.get("to"))
    speech = _speech(state, pid)
    if speech is None:
        raise refuse("not_found", "Người này không đang phát biểu.", "That participant is not speaking.")
    seconds = args.get("seconds", 60)
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 1 <= seconds <= MAX_EXTENSION_S:
        raise refuse("invalid", "Thời gian gia hạn phải từ 1 đến 3600 giây.", "seconds must be 1..3600.")
    base = speech.limit_s if speech.limit_s is not None else now.mono - speech.mono
    return [ev.FloorExtended(pid, float(seconds), round(base + float(seconds), 3))]


@handles("set_mic_mode", "floor.manage")
def _set_mic_mode(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    mode = args.get("mode", state.floor.mic_mode)
    max_open = args.get("max_open", state.floor.max_open)
    if not mics.valid_policy(mode, max_open):
        raise refuse(
            "invalid",
            "Chế độ micro phải là request, open, override hoặc chair_only; số micro mở từ 1 đến 25.",
            "mode must be request, open, override or chair_only; max_open 1..25.",
        )
    new = mics.Policy(str(mode), int(max_open))
    closes = mics.change(new, open_mics(state))
    out: list[Event] = [ev.MicModeSet(new.mode, new.max_open), *_closing(state, closes, now)]
    if new.mode == "open":
        still = [m for m in open_mics(state) if m.participant_id not in closes]
        order = waiting(state)
        kinds = {e.participant_id: e.kind for e in order}
        out += [_granted(state, p, kinds[p], now) for p in mics.promote(new, still, list(kinds))]
    return out


@handles("set_speech_limits", "floor.manage")
def _set_limits(state: SessionState, actor: Actor, args: dict[str, Any], now: Stamp) -> list[Event]:
    item = args.get("item")
    if item is not None and (not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= len(state.agenda)):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    limits = args.get("limits") or {}
    if not isinstance(limits, dict) or any(k not in KINDS for k in limits):
        raise refuse("invalid", "Giới hạn thời gian theo loại: report, speak, rebuttal.", "limits are by kind: report, speak, rebuttal.")
    for value in limits.values():
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 4 * 3600:
            raise refuse("invalid", "Thời gian phát biểu không hợp lệ.", "A speaking time must be 0..14400 s (0: no limit).")
    warn = args.get("warn_s")
    if warn is not None and (not isinstance(warn, int | float) or isinstance(warn, bool) or not 0 <= warn <= 600):
        raise refuse("invalid", "Thời gian cảnh báo không hợp lệ.", "warn_s must be 0..600.")
    auto_off = args.get("auto_off")
    if auto_off is not None and not isinstance(auto_off, bool):
        raise refuse("invalid", "auto_off phải là true hoặc false.", "auto_off must be true or false.")
    return [
        ev.SpeechLimitsSet(
            item, {k: float(v) for k, v in limits.items()}, float(warn) if warn is not None else None, auto_off
        )
    ]


# Appliers and the view section register on import.
from appliance.meeting import floor_state  # noqa: E402,F401
