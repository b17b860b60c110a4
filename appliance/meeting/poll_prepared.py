"""Prepared polls, series (article by article, then the whole) and paper ballots.

The secretary prepares polls per agenda item before the sitting so the chair opens
one with a single tap; a draft resolution becomes a series voted article by article
(biểu quyết từng điều) and then as a whole. For a paper or mixed sitting the secretary
enters the counts of the paper ballot (kiểm phiếu) as the poll's result.
"""

from __future__ import annotations

from typing import Any

from appliance.core.clock import Stamp
from appliance.core.errors import refuse
from appliance.core.events import Event
from appliance.meeting import events as ev
from appliance.meeting.decide import _text, handles
from appliance.meeting.model import SessionState
from appliance.meeting.poll_commands import (
    open_events,
    present_count,
    spec_from_dict,
    validate_args,
)
from appliance.meeting.poll_events import PaperCountsEntered, PollPrepared, PreparedPollRemoved
from appliance.meeting.polls import tally
from appliance.meeting.polls_shares import share

POLL_KEYS = ("question", "method", "answers", "rule", "kind", "candidates", "choose",
             "allow_correction", "show_live", "amend", "duration_s")


def _item(state: SessionState, args: dict[str, Any]) -> int | None:
    item = args.get("item")
    if item is None:
        return None
    if not isinstance(item, int) or isinstance(item, bool) or not 1 <= item <= len(state.agenda):
        raise refuse("not_found", "Không có mục chương trình này.", "No such agenda item.")
    return item


def _poll_args(state: SessionState, args: dict[str, Any]) -> dict[str, Any]:
    """The open_poll arguments of a template, checked now so the chair's tap cannot fail on them."""
    clean = {k: args[k] for k in POLL_KEYS if args.get(k) is not None}
    validate_args(state, "prepared", clean)
    return clean


@handles("prepare_poll", "poll.prepare")
def _prepare(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    return [PollPrepared(str(args["id"]), _item(state, args), _poll_args(state, args))]


@handles("prepare_series", "poll.prepare")
def _prepare_series(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    """A draft resolution: one poll per article, then one on the whole text."""
    title = _text(args, "title", limit=500)
    articles = args.get("articles")
    if not isinstance(articles, list) or not articles or len(articles) > 200:
        raise refuse("invalid", "Danh sách điều khoản trống.", "A series needs 1..200 articles.", field="articles")
    ids = args["ids"]
    base = {k: args[k] for k in ("method", "answers", "rule") if args.get(k) is not None}
    item = _item(state, args)
    out: list[Event] = []
    for n, article in enumerate(articles, start=1):
        text = _text({"a": article}, "a", limit=500)
        poll = _poll_args(state, {**base, "question": f"{title} — {text}"})
        out.append(PollPrepared(ids[n - 1], item, poll, series=str(args["series"]), step=n))
    whole = args.get("whole") or f"Thông qua toàn văn {title}"
    poll = _poll_args(state, {**base, "question": _text({"w": whole}, "w", limit=1000)})
    out.append(PollPrepared(ids[len(articles)], item, poll, series=str(args["series"]), step=len(articles) + 1))
    return out


@handles("remove_prepared", "poll.prepare")
def _remove(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    prepared = state.prepared.get(str(args.get("prepared_id")))
    if prepared is None:
        raise refuse("not_found", "Không có biểu quyết chuẩn bị này.", "No such prepared poll.")
    return [PreparedPollRemoved(prepared.id)]


@handles("open_prepared", "poll.manage")
def _open_prepared(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    """The chair's one tap: open a prepared poll; a series step waits for the step before it."""
    prepared = state.prepared.get(str(args.get("prepared_id")))
    if prepared is None:
        raise refuse("not_found", "Không có biểu quyết chuẩn bị này.", "No such prepared poll.")
    if _settled(state, prepared.used_by):
        raise refuse("conflict", "Biểu quyết này đã được mở.", "This prepared poll was already opened.")
    if prepared.series and prepared.step > 1:
        before = [p for p in state.prepared.values() if p.series == prepared.series and p.step == prepared.step - 1]
        if before and not _closed(state, before[0].used_by):
            raise refuse("conflict", "Hãy biểu quyết xong điều trước.", "Finish the previous step of the series first.")
    return open_events(state, {**prepared.args, "poll_id": args["poll_id"]}, now,
                       prepared_id=prepared.id, series=prepared.series)


def _settled(state: SessionState, used_by: list[str]) -> bool:
    """Opened and not annulled: a template is spent once one of its polls stands."""
    return any(pid in state.polls and state.polls[pid].annulled is None for pid in used_by)


def _closed(state: SessionState, used_by: list[str]) -> bool:
    return any(pid in state.polls and state.polls[pid].status == "closed" and state.polls[pid].annulled is None
               for pid in used_by)


def _count(value: Any, field: str) -> int:
    """A count the secretary typed: a whole number, never blank."""
    if value is None or value == "" or isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise refuse("invalid", f"Ô '{field}' phải là số nguyên không âm, không để trống.",
                     f"'{field}' must be a whole number >= 0, not blank.", field=field)
    return value


@handles("enter_paper_result", "poll.prepare")
def _paper(state: SessionState, actor: Any, args: dict[str, Any], now: Stamp) -> list[Event]:
    """Kết quả kiểm phiếu giấy: valid ballots per answer plus invalid ones, checked against the body."""
    base_args = dict(args)
    prepared_id = args.get("prepared_id")
    if prepared_id is not None:
        prepared = state.prepared.get(str(prepared_id))
        if prepared is None:
            raise refuse("not_found", "Không có biểu quyết chuẩn bị này.", "No such prepared poll.")
        base_args = {**prepared.args, **{k: v for k, v in args.items() if k not in prepared.args}}
    base_args["show_live"] = False
    base_args.pop("duration_s", None)
    opened = open_events(state, base_args, now, prepared_id=prepared_id, source="paper")
    first = opened[0]
    assert isinstance(first, ev.PollOpened)
    spec = spec_from_dict(first.spec)
    total = state.total_delegates()
    invalid = _count(args.get("invalid"), "invalid")
    counts = args.get("counts")
    if not isinstance(counts, dict):
        raise refuse("invalid", "Chưa nhập số phiếu.", "counts are missing.", field="counts")
    ballots, valid, kept = _ballots(spec, counts, args.get("valid"))
    if valid + invalid > total:
        raise refuse("invalid", f"Số phiếu hợp lệ và không hợp lệ ({valid + invalid}) vượt tổng số đại biểu ({total}).",
                     f"Valid plus invalid ballots ({valid + invalid}) exceed the body's {total} delegates.",
                     field="counts")
    # A paper ballot that rates nobody (allowed in a confidence assessment) is cast but counts for no one.
    blank = sum(1 for b in ballots if b == {})
    result = tally(spec, [b for b in ballots if b != {}], total=total, present=present_count(state))
    _with_invalid(result, invalid, blank)
    poll_id = str(args["poll_id"])
    return [*opened, PaperCountsEntered(poll_id, kept, invalid), ev.PollClosed(poll_id, now.wall, result)]


def _ballots(spec: Any, counts: dict[str, Any], valid_arg: Any) -> tuple[list[Any], int, dict[str, Any]]:
    """Ballots that add up to the typed counts, so the one tally function decides the result."""
    if not spec.candidates:
        kept = {a: _count(counts.get(a), a) for a in spec.answers}
        return [a for a, n in kept.items() for _ in range(n)], sum(kept.values()), kept
    valid = _count(valid_arg, "valid")
    kept_c: dict[str, Any] = {}
    ballots: list[dict[str, str]] = [{} for _ in range(valid)]
    offset = 0
    for name in spec.candidates:
        row = counts.get(name)
        if not isinstance(row, dict):
            raise refuse("invalid", f"Chưa nhập số phiếu cho {name}.", f"Counts for {name} are missing.", field=name)
        per = {a: _count(row.get(a), f"{name}/{a}") for a in spec.answers}
        rated = sum(per.values())
        if rated > valid or (spec.kind == "election" and rated != valid):
            raise refuse("invalid", f"Số phiếu của {name} không khớp số phiếu hợp lệ ({valid}).",
                         f"The counts for {name} do not match the {valid} valid ballots.", field=name)
        kept_c[name] = per
        # Spread each answer round-robin so no synthetic ballot chooses more than `choose`.
        codes = [a for a in spec.answers if a == "for"] + [a for a in spec.answers if a != "for"]
        seq = [a for a in codes for _ in range(per[a])]
        for i, code in enumerate(seq):
            ballots[(offset + i) % valid][name] = code
        offset += per.get("for", 0)
    fors = sum(kept_c[n].get("for", 0) for n in spec.candidates)
    if spec.kind == "election" and spec.choose is not None and fors > spec.choose * valid:
        raise refuse("invalid", "Tổng phiếu tán thành vượt số người được chọn trên mỗi phiếu.",
                         "More 'for' than choose × valid ballots.", field="counts")
    return list(ballots), valid, {"valid": valid, **kept_c}


def _with_invalid(result: dict[str, Any], invalid: int, blank: int) -> None:
    """Invalid ballots were cast, so they are not 'not voted'; they count for nothing else."""
    result["invalid"] = invalid
    result["turnout"] += invalid + blank
    invalid += blank
    base = int(result["base"])
    rows = [result["counts"]] if "not_voted" in result["counts"] else list(result["counts"].values())
    shares = [result["shares"]] if "not_voted" in result["counts"] else list(result["shares"].values())
    for row, row_shares in zip(rows, shares, strict=True):
        row["not_voted"] = max(0, int(row["not_voted"]) - invalid)
        if "not_voted" in row_shares:
            row_shares["not_voted"] = share(row["not_voted"], base)
