"""What the minutes (biên bản) say, as plain blocks both the PDF and the DOCX render.

Every figure of a poll is printed from the poll's Result exactly as the journal holds it
(``appliance.meeting.polls``): nothing is recomputed here, so the minutes cannot disagree
with the hall display. Times are the box's wall clock shown in Vietnam time (UTC+7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from appliance.archive.replay import Replay, SittingFacts
from appliance.core.errors import refuse
from appliance.meeting.model import Participant, Poll, SessionState, Sitting

VN = timezone(timedelta(hours=7))
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
RULE_WORDS = {
    "more_than_half_of_total": "quá nửa tổng số đại biểu Hội đồng nhân dân tán thành",
    "two_thirds_of_total": "ít nhất hai phần ba tổng số đại biểu Hội đồng nhân dân tán thành",
    "more_than_half_of_present": "quá nửa số đại biểu có mặt tán thành",
    "more_than_half_of_cast": "quá nửa số phiếu biểu quyết tán thành",
}
BASE_WORDS = {"total": "tổng số đại biểu", "present": "số đại biểu có mặt", "cast": "số phiếu biểu quyết"}
KIND_WORDS = {"speak": "Phát biểu", "rebuttal": "Tranh luận", "report": "Trình bày"}
ROLE_WORDS = {"chair": "Chủ tọa", "vice_chair": "Phó Chủ tọa", "delegate": "Đại biểu", "guest": "Khách mời"}
NOT_VOTED = "Không tham gia biểu quyết"
# NQ 96/2023/QH15 thresholds a confidence result flags, in the words the minutes print.
FLAG_WORDS = {
    "more_than_half_low": "quá nửa tổng số đại biểu đánh giá tín nhiệm thấp",
    "two_thirds_low": "từ hai phần ba tổng số đại biểu trở lên đánh giá tín nhiệm thấp",
    "more_than_half_no_trust": "quá nửa tổng số đại biểu bỏ phiếu không tín nhiệm",
}


@dataclass
class Block:
    """A heading, a paragraph or a table of the minutes."""

    kind: str  # title | h | p | table
    text: str = ""
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Minutes:
    """The whole document: the Nghị định 30 header, blocks, and who signs."""

    body: str
    place_date: str
    blocks: list[Block]
    chair: str
    secretary: str
    title: str
    stamp: float  # the sitting's opening: fixed metadata dates, so the same input gives the same file


def when(wall: float | None, fmt: str = "%H:%M") -> str:
    """A wall-clock reading in Vietnam time."""
    return "" if wall is None else datetime.fromtimestamp(wall, VN).strftime(fmt)


def mmss(seconds: float) -> str:
    """Speaking time as mm:ss (rounded to the second)."""
    total = int(round(seconds))
    return f"{total // 60:02d}:{total % 60:02d}"


def pct(value: Any) -> str:
    """A share from the Result, printed as it is with a Vietnamese decimal comma."""
    return f"{value}".replace(".", ",") + "%"


def date_words(wall: float | None) -> str:
    """'ngày 15 tháng 12 năm 2026'."""
    if wall is None:
        return "ngày ... tháng ... năm ..."
    d = datetime.fromtimestamp(wall, VN)
    return f"ngày {d.day:02d} tháng {d.month:02d} năm {d.year}"


def _sitting(state: SessionState, sitting_id: str) -> Sitting:
    for s in state.sittings:
        if s.id == sitting_id:
            return s
    raise refuse("not_found", "Không có phiên họp này.", "No such sitting.")


def _name(state: SessionState, pid: str | None) -> str:
    p = state.participants.get(pid or "")
    return p.name if p else (pid or "")


def _label(state: SessionState, code: str) -> str:
    return NOT_VOTED if code == "not_voted" else state.labels.get(code, code)


def build_minutes(replay: Replay, sitting_id: str) -> Minutes:
    """The minutes of one sitting from a replayed journal."""
    state = replay.state
    sitting = _sitting(state, sitting_id)
    facts = replay.sittings.get(sitting_id, SittingFacts())
    book = state.minutes.get(sitting_id)
    place = (book.place if book else "") or "Hội trường"
    blocks = [Block("title", "BIÊN BẢN"), Block("p", f"{sitting.title} — {state.session}".strip(" —"))]
    blocks.append(Block("h", "I. THỜI GIAN, ĐỊA ĐIỂM"))
    blocks.append(Block("p", f"Bắt đầu lúc {when(sitting.opened_at)} {date_words(sitting.opened_at)}; "
                             f"kết thúc lúc {when(sitting.closed_at) or '...'}."))
    blocks.append(Block("p", f"Địa điểm: {place}."))
    blocks += _attendance(state, sitting, facts)
    blocks.append(Block("h", "III. NỘI DUNG PHIÊN HỌP"))
    polls = sorted((p for p in state.polls.values() if p.sitting_id == sitting_id), key=lambda p: (p.opened_at, p.id))
    items = list(facts.items)
    for p in polls:
        if p.item is not None and p.item not in items:
            items.append(p.item)
    speeches = [state.floor.speeches[i] for i in facts.speeches if i < len(state.floor.speeches)]
    numbered = 0
    for n in items:
        if not 1 <= n <= len(state.agenda):
            continue
        item = state.agenda[n - 1]
        blocks.append(Block("h", f"{n}. {item.title}"))
        docs = [state.documents[d].title for d in item.documents if d in state.documents]
        if docs:
            blocks.append(Block("p", "Tài liệu: " + "; ".join(docs) + "."))
        numbered = _speeches(blocks, state, [s for s in speeches if s.item == n], numbered)
        blocks += _groups(state, n, sitting)
        for poll in (p for p in polls if p.item == n):
            blocks += _poll(state, poll, polls.index(poll) + 1)
    rest = [s for s in speeches if s.item not in items]
    if rest:
        blocks.append(Block("h", "Phát biểu khác"))
        _speeches(blocks, state, rest, numbered)
    for poll in (p for p in polls if p.item not in items):
        blocks += _poll(state, poll, polls.index(poll) + 1)
    loose = _groups(state, None, sitting)
    if loose:
        blocks += [Block("h", "Kết luận các nhóm thảo luận"), *loose]
    blocks.append(Block("h", "IV. KẾT LUẬN CỦA CHỦ TỌA"))
    text = book.conclusions if book and book.conclusions else "(Thư ký ghi kết luận của chủ tọa trước khi hoàn thành biên bản.)"
    blocks += [Block("p", line) for line in text.splitlines() if line.strip()]
    blocks.append(Block("p", f"Phiên họp kết thúc lúc {when(sitting.closed_at) or '...'} {date_words(sitting.closed_at)}."))
    chair = next((p.name for p in state.participants.values() if p.role == "chair"), "")
    secretary = next((p.name for p in state.participants.values() if p.role == "secretary"), "")
    town = _locality(place, state.body)
    return Minutes(state.body, f"{town}, {date_words(sitting.opened_at)}", blocks, chair, secretary,
                   f"Biên bản {sitting.title}", sitting.opened_at or 0.0)


def _locality(place: str, body: str) -> str:
    """The place name before the date (Nghị định 30): the last part of the address, else the body's locality."""
    if "," in place:
        return place.rsplit(",", 1)[1].strip()
    for prefix in ("HĐND ", "Hội đồng nhân dân "):
        if body.startswith(prefix):
            body = body[len(prefix):]
    for unit in ("phường ", "xã ", "đặc khu ", "tỉnh ", "thành phố "):
        if body.lower().startswith(unit):
            return body[len(unit):].strip()
    return body.strip() or place


def _attendance(state: SessionState, sitting: Sitting, facts: SittingFacts) -> list[Block]:
    delegates = state.delegates()
    came = set(facts.attended)
    present = [p for p in delegates if p.id in came]
    absent = [p for p in delegates if p.id not in came]
    guests = [p for p in state.participants.values() if p.role == "guest"]
    out = [
        Block("h", "II. THÀNH PHẦN THAM DỰ"),
        Block("p", f"Tổng số đại biểu: {len(delegates)}; có mặt: {len(present)}; vắng mặt: {len(absent)}."),
        Block("table", header=["STT", "Đại biểu có mặt", "Chức danh", "Ghế"], rows=_people(present)),
    ]
    if absent:
        rows = [[str(i), p.name, facts.absences.get(p.id) or "Không có lý do được ghi nhận"] for i, p in enumerate(absent, 1)]
        out.append(Block("table", header=["STT", "Đại biểu vắng mặt", "Lý do"], rows=rows))
    if guests:
        out.append(Block("table", header=["STT", "Khách mời", "Chức danh", "Ghế"], rows=_people(guests)))
    return out


def _people(people: list[Participant]) -> list[list[str]]:
    return [[str(i), p.name, p.title or ROLE_WORDS.get(p.role, ""), "" if p.seat is None else str(p.seat)]
            for i, p in enumerate(people, 1)]


def _speeches(blocks: list[Block], state: SessionState, speeches: list[Any], numbered: int) -> int:
    if not speeches:
        return numbered
    rows = []
    for s in speeches:
        numbered += 1
        rows.append([str(numbered), _name(state, s.participant_id), KIND_WORDS.get(s.kind, s.kind), when(s.started), mmss(s.seconds)])
    blocks.append(Block("table", header=["STT", "Người phát biểu", "Hình thức", "Bắt đầu", "Thời lượng (mm:ss)"], rows=rows))
    return numbered


def _groups(state: SessionState, item: int | None, sitting: Sitting) -> list[Block]:
    """The conclusions the discussion groups reported on this item (or on none) while the sitting was open."""
    from appliance.meeting.groups import minutes as group_rows

    start, end = sitting.opened_at or 0.0, sitting.closed_at or float("inf")
    return [
        Block("p", f"Kết luận của {row['name']}: {row['conclusions']}")
        for row in group_rows(state)
        if row["item"] == item and row["conclusions"] and start <= (row["concluded_at"] or start) <= end
    ]


def _poll(state: SessionState, poll: Poll, k: int) -> list[Block]:
    spec, result = poll.spec, poll.result or {}
    method = "bỏ phiếu kín" if spec.get("method") == "secret" else "biểu quyết công khai"
    out = [Block("p", f"Biểu quyết {k}: {spec.get('question', '')}"),
           Block("p", f"Hình thức: {method}. Điều kiện: {RULE_WORDS.get(str(spec.get('rule')), 'lấy ý kiến, không áp dụng điều kiện thông qua')}.")]
    if not result:
        return [*out, Block("p", "Chưa có kết quả.")]
    base_kind = BASE_WORDS.get(str(result.get("base_kind")), str(result.get("base_kind")))
    out.append(Block("p", f"Căn cứ tính tỷ lệ: {result.get('base')} ({base_kind}); số phiếu đã bỏ: {result.get('turnout')}."))
    counts, shares = result.get("counts", {}), result.get("shares", {})
    if counts and all(isinstance(v, dict) for v in counts.values()):
        for cand, per in counts.items():
            rows = [[_label(state, a), str(n), pct(shares.get(cand, {}).get(a, ""))] for a, n in per.items()]
            out.append(Block("table", header=[str(cand), "Số phiếu", "Tỷ lệ"], rows=rows))
    else:
        rows = [[_label(state, a), str(n), pct(shares.get(a, ""))] for a, n in counts.items()]
        out.append(Block("table", header=["Phương án", "Số phiếu", "Tỷ lệ"], rows=rows))
    out.append(Block("p", "Kết quả: " + _outcome(result, poll)))
    per = list(result.get("per_delegate") or [])
    voters = {d.get("participant_id") for d in per}
    missing = [p for p in state.delegates() if p.id not in voters]
    if per and result.get("base_kind") == "total" and len(missing) == counts.get("not_voted"):
        # Every delegate of the body is named, as the roll of a public vote is read out.
        per += [{"participant_id": p.id, "answer": "not_voted"} for p in missing]
    per.sort(key=lambda d: _seat_order(state, d.get("participant_id")))
    if spec.get("method") == "public" and per:
        rows = [[str(i), _name(state, d.get("participant_id")), _choice(state, d.get("answer"))] for i, d in enumerate(per, 1)]
        out.append(Block("table", header=["STT", "Đại biểu", "Lựa chọn"], rows=rows))
    return out


def _seat_order(state: SessionState, pid: Any) -> tuple[int, str]:
    """The list of names follows the seats, as the roll call does, not the order of voting."""
    p = state.participants.get(pid) if isinstance(pid, str) else None
    return (p.seat if p is not None and p.seat is not None else 10**6, p.name if p is not None else str(pid))


def _choice(state: SessionState, answer: Any) -> str:
    if isinstance(answer, dict):
        return "; ".join(f"{c}: {_label(state, str(a))}" for c, a in answer.items())
    return _label(state, str(answer))


def _outcome(result: dict[str, Any], poll: Poll) -> str:
    if poll.annulled:
        return f"kết quả đã bị hủy ({poll.annulled})."
    words = {True: "THÔNG QUA.", False: "KHÔNG THÔNG QUA."}
    if isinstance(result.get("passed"), bool):
        return words[result["passed"]]
    parts = []
    if result.get("elected") is not None:
        parts.append("trúng cử: " + (", ".join(result["elected"]) or "không ai"))
    if result.get("tie"):
        parts.append("có số phiếu bằng nhau ở vị trí cuối")
    flags = result.get("flags") or {}
    # A single vote of confidence flags its outcome as a list; candidate polls, per name.
    for name, found in ({"": flags} if isinstance(flags, list) else flags).items():
        if found:
            said = ", ".join(FLAG_WORDS.get(str(f), str(f)) for f in found)
            parts.append(f"{name}: {said}" if name else said)
    return ("; ".join(parts) or "lấy ý kiến, không áp dụng điều kiện thông qua") + "."
