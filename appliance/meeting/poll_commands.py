"""Poll commands: open, vote (and correct), close, annul and repeat.

Moved out of ``decide.py`` so the poll life cycle can grow on its own. Prepared polls,
series, paper counts and agenda amendments are in ``poll_prepared.py``. Pure like
``decide``: the caller passes ``now`` and every generated id.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.core.text import clean
from appliance.meeting import events as ev
from appliance.meeting.decide import _delegate_actor, _open_sitting, _text, handles
from appliance.meeting.model import Poll, SessionState, quorum_needed
from appliance.meeting.poll_events import (
    AgendaItemRetitled,
    BallotCorrected,
    PollAnnulled,
    PollSettings,
)
from appliance.meeting.polls import PollSpec, make_spec, normalize_ballot, tally
from appliance.meeting.polls_spec import SECRET_KINDS

_NO_SUCH_POLL = ("Không có lượt biểu quyết này.", "No such poll.")


def spec_to_dict(spec: PollSpec) -> dict[str, Any]:
    """A PollSpec as JSON."""
    data = dataclasses.asdict(spec)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def spec_from_dict(data: dict[str, Any]) -> PollSpec:
    """Rebuild a PollSpec from its JSON form."""
    return make_spec(
        data["id"],
        data["question"],
        data["method"],
        list(data["answers"]),
        data.get("rule"),
        kind=data.get("kind"),
        candidates=list(data.get("candidates") or []) or None,
        choose=data.get("choose"),
        allow_correction=bool(data.get("allow_correction", False)),
    )


def find_poll(state: SessionState, poll_id: Any) -> Poll:
    """The poll named, or ``not_found``."""
    poll = state.polls.get(str(poll_id))
    if poll is None:
        raise refuse("not_found", *_NO_SUCH_POLL)
    return poll


def _flag(args: dict[str, Any], key: str) -> bool:
    value = args.get(key, False)
    if not isinstance(value, bool):
        raise refuse("invalid", f"Trường '{key}' phải là true/false.", f"'{key}' must be true or false.")
    return value


def check_amend(state: SessionState, amend: Any) -> dict[str, Any] | None:
    """An agenda amendment (bổ sung, điều chỉnh chương trình): add an item or retitle one."""
    if amend is None:
        return None
    if not isinstance(amend, dict) or amend.get("action") not in ("add", "change"):
        raise refuse("invalid", "Đề nghị sửa chương trình không hợp lệ.", "amend needs action add or change.")
    title = _text(amend, "title", limit=500)
    if amend["action"] == "add":
        return {"action": "add", "title": title}
    item = amend.get("item")
    if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= len(state.agenda):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    return {"action": "change", "item": item, "title": title}


# A candidate list as long as a province's whole slate, with room to spare; every ballot
# of a candidate poll names each of them, and must fit the ballot box's largest slot.
MAX_CANDIDATES = 300
MAX_CANDIDATE_NAME = 200


# The ballot box's largest slot (appliance/store/ballotbox.py MAX_PAYLOAD; a test keeps them equal).
MAX_SECRET_BALLOT = 64 * 1024


def largest_ballot(spec: PollSpec) -> int:
    """Bytes of the largest choice the ballot box would store for this poll (as it encodes them)."""
    longest = max(spec.answers, key=lambda a: len(a.encode()))
    choice: Any = {c: longest for c in spec.candidates} if spec.candidates else longest
    body = json.dumps({"c": choice, "m": "0" * 32, "poll": spec.id}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return len(body.encode())


def _candidates(value: Any) -> Any:
    """Candidates cleaned as names are (NFC, no invisible characters, one line), twins refused.

    Judged when the poll opens, not in make_spec: an older record replays as it was.
    Anything that is not a list of strings goes on to make_spec, which says what is wrong.
    """
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return value
    names = [clean(v, one_line=True) for v in value]
    if len(names) > MAX_CANDIDATES:
        raise refuse("invalid", f"Tối đa {MAX_CANDIDATES} ứng cử viên trong một lượt biểu quyết (có {len(names)}).",
                     f"At most {MAX_CANDIDATES} candidates in one poll ({len(names)} given).", field="candidates")
    seen: dict[str, str] = {}
    for name in names:
        if len(name) > MAX_CANDIDATE_NAME:
            raise refuse("invalid", f"Tên ứng cử viên dài quá {MAX_CANDIDATE_NAME} ký tự.",
                         f"A candidate's name is longer than {MAX_CANDIDATE_NAME} characters.", field="candidates")
        if name and name.casefold() in seen:
            raise refuse("invalid", f"Ứng cử viên {name} có tên hai lần trong danh sách.",
                         f"Candidate {name} is listed twice.", field="candidates")
        seen[name.casefold()] = name
    return names


def validate_args(
    state: SessionState, poll_id: str, args: dict[str, Any]
) -> tuple[PollSpec, bool, dict[str, Any] | None, float | None]:
    """Check what the chair (or the secretary, preparing) asked for: spec, live view, amendment, countdown."""
    answers = args.get("answers") or []
    spec = make_spec(
        poll_id,
        _text(args, "question", limit=1000),
        str(args.get("method", "public")),
        list(answers) if isinstance(answers, list) else answers,
        args.get("rule"),
        kind=args.get("kind"),
        candidates=_candidates(args.get("candidates")),
        choose=args.get("choose"),
        allow_correction=_flag(args, "allow_correction"),
    )
    if spec.kind in SECRET_KINDS and spec.method != "secret":
        # Elections (Luật TCCQĐP 2025) and confidence assessments and votes (NQ 96/2023/QH15)
        # are held by secret ballot (docs/RULES.md §6): secret unless the chair asked for
        # public, which is refused. Judged here, when a poll opens, not in make_spec: replay
        # of an older record must never fail.
        if args.get("method") is not None:
            raise refuse("invalid", "Bầu cử, lấy phiếu tín nhiệm và bỏ phiếu tín nhiệm phải bỏ phiếu kín.",
                         "Elections, confidence assessments and votes of confidence are secret ballots.", field="method")
        spec = dataclasses.replace(spec, method="secret")
    if spec.method == "secret" and largest_ballot(spec) > MAX_SECRET_BALLOT:
        raise refuse("invalid", f"Danh sách {len(spec.candidates)} ứng cử viên quá dài cho một phiếu kín; hãy chia thành nhiều lượt.",
                     f"{len(spec.candidates)} candidates make a secret ballot too long; split them into several polls.",
                     field="candidates")
    show_live = _flag(args, "show_live")
    if spec.method == "secret" and show_live:
        raise refuse("invalid", "Bỏ phiếu kín không hiển thị kết quả tạm thời.",
                     "A secret poll never shows partial results.", field="show_live")
    if spec.method == "secret" and spec.allow_correction:
        # docs/SECRET_BALLOTS.md: replacing a secret choice needs a voter-to-slot link.
        raise refuse("invalid", "Bỏ phiếu kín không cho sửa phiếu: phiếu đã bỏ là phiếu cuối cùng.",
                     "A secret poll cannot allow correction: finding the old choice would link it to the voter.",
                     field="allow_correction")
    amend = check_amend(state, args.get("amend"))
    if amend is not None and spec.kind != "motion":
        raise refuse("invalid", "Sửa chương trình phải là biểu quyết thông qua.", "An amendment is a motion.")
    duration = args.get("duration_s")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float) or not 1 <= duration <= 3600
    ):
        raise refuse("invalid", "Thời gian biểu quyết không hợp lệ.", "duration_s must be 1..3600.")
    return spec, show_live, amend, float(duration) if duration else None


def open_events(
    state: SessionState,
    args: dict[str, Any],
    now: Stamp,
    *,
    prepared_id: str | None = None,
    series: str | None = None,
    repeat_of: str | None = None,
    source: str = "electronic",
) -> list[Event]:
    """``poll_opened`` plus ``poll_settings``: what opening a poll records."""
    sitting = _open_sitting(state)
    total = state.total_delegates()
    if state.present_delegates() < quorum_needed(total) or total == 0:
        raise refuse("no_quorum", present=state.present_delegates(), needed=quorum_needed(total))
    poll_id = str(args["poll_id"])
    if poll_id in state.polls:
        raise refuse("conflict", "Mã lượt biểu quyết đã dùng.", "That poll id is taken.")
    spec, show_live, amend, duration = validate_args(state, poll_id, args)
    closes_at = now.wall + duration if duration and source == "electronic" else None
    out: list[Event] = [
        ev.PollOpened(poll_id, sitting.id, sitting.current_item, spec_to_dict(spec), now.wall, closes_at)
    ]
    settings = PollSettings(poll_id, show_live, source, prepared_id, series, amend, repeat_of)
    if settings != PollSettings(poll_id):  # a plain poll records only poll_opened, as before
        out.append(settings)
    return out


@handles("open_poll", "poll.manage")
def _open_poll(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    return open_events(state, args, now)


def is_open(poll: Poll, now: Stamp) -> bool:
    """Open and not past its countdown: a ballot after ``closes_at`` is late even before the timer fires."""
    return poll.status == "open" and (poll.closes_at is None or now.wall < poll.closes_at)


@handles("vote", "poll.vote")
def _vote(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    pid = _delegate_actor(state, actor)
    poll = find_poll(state, args.get("poll_id"))
    if not is_open(poll, now):
        raise refuse("poll_closed")
    sitting = state.sitting()
    if sitting is None or pid not in sitting.present:
        raise refuse("not_present")
    spec = spec_from_dict(poll.spec)
    if pid in poll.voters and not (spec.allow_correction and spec.method == "public"):
        raise refuse("already_voted")
    choice = normalize_ballot(spec, args.get("answer"), args.get("answers"))
    if pid in poll.voters:
        if poll.ballots.get(pid) == choice:
            return []  # the same answer again changes nothing
        return [BallotCorrected(poll.id, pid, choice)]
    return [ev.BallotCast(poll.id, pid, choice if spec.method == "public" else None)]


def secret_choice(state: SessionState, args: dict[str, Any]) -> Any:
    """The normalized choice of a secret ballot, which goes to the ballot box, never the journal."""
    poll = state.polls[str(args["poll_id"])]
    return normalize_ballot(spec_from_dict(poll.spec), args.get("answer"), args.get("answers"))


@handles("close_poll", "poll.manage")
def _close_poll(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    poll = find_poll(state, args.get("poll_id"))
    if poll.status != "open":
        raise refuse("poll_closed")
    return close_events(state, poll.id, now)


def close_events(state: SessionState, poll_id: str, now: Stamp, *, amend: bool = True) -> list[Event]:
    """The close and, when a passed motion amends the agenda, the amendment itself."""
    result = compute_result(state, poll_id)
    out: list[Event] = [ev.PollClosed(poll_id, now.wall, result)]
    change = state.polls[poll_id].amend
    if amend and change and result.get("passed") is True:
        if change["action"] == "add":
            out.append(ev.AgendaItemAdded(f"i{len(state.agenda) + 1}_{poll_id}", change["title"]))
        else:
            out.append(AgendaItemRetitled(state.agenda[int(change["item"]) - 1].id, change["title"]))
    return out


def present_count(state: SessionState) -> int:
    """Delegates checked in right now (the 'present' base is taken at close)."""
    sitting = state.sitting()
    if sitting is None:
        return 0
    return sum(1 for p in sitting.present if p in state.participants and state.participants[p].is_delegate)


def compute_result(state: SessionState, poll_id: str) -> dict[str, Any]:
    """The poll's result against the state as it stands (for close, and live public tallies)."""
    poll = state.polls[poll_id]
    spec = spec_from_dict(poll.spec)
    present = present_count(state)
    if spec.method == "public":
        ballots: list[Any] = list(poll.ballots.values())
        voters: dict[str, Any] | None = dict(poll.ballots)
    else:
        ballots = list(state.secret_choices(poll_id))
        voters = None
    result = tally(spec, ballots, total=state.total_delegates(), present=present, voters=voters)
    # Quorum lost mid-poll does not void the vote (docs/RULES.md §10); the minutes say so.
    result["present_at_close"] = present
    result["quorum_at_close"] = present >= quorum_needed(state.total_delegates())
    return result


@handles("annul_poll", "poll.manage")
def _annul(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Hủy kết quả và biểu quyết lại: the record stays, flagged with the reason; a twin opens."""
    poll = find_poll(state, args.get("poll_id"))
    reason = _text(args, "reason", limit=1000)
    if poll.annulled is not None:
        raise refuse("conflict", "Lượt biểu quyết đã bị hủy.", "The poll is already annulled.")
    if poll.amend and poll.result and poll.result.get("passed") is True:
        raise refuse("conflict", "Chương trình đã được sửa theo kết quả này; không thể hủy.",
                     "The agenda was already amended by this result.")
    repeat = _flag({"repeat": args.get("repeat", True)}, "repeat")
    out: list[Event] = []
    if poll.status == "open":
        out += close_events(state, poll.id, now, amend=False)
    new_id = str(args["new_poll_id"]) if repeat else None
    if repeat:
        if poll.source == "paper":
            raise refuse("invalid", "Phiếu giấy: hãy nhập lại kết quả kiểm phiếu.",
                         "A paper ballot is repeated by entering its counts again.")
        reopen = {**poll.spec, "poll_id": new_id, "show_live": poll.show_live, "amend": poll.amend}
        if poll.closes_at is not None:
            reopen["duration_s"] = round(poll.closes_at - poll.opened_at, 3)
        out += [PollAnnulled(poll.id, reason, now.wall, new_id)]
        out += open_events(state, reopen, now, prepared_id=poll.prepared_id, series=poll.series, repeat_of=poll.id)
    else:
        out.append(PollAnnulled(poll.id, reason, now.wall, None))
    return out
