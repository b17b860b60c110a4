"""What a poll is and what a valid ballot is: checked once, when the chair opens it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from appliance.core.errors import PhsError, refuse
from appliance.core.text import nfc
from appliance.meeting.polls_rules import RULES

Method = Literal["public", "secret"]
Kind = Literal["motion", "election", "confidence", "confidence_vote", "opinion"]
Ballot = str | dict[str, str]

KINDS: Final = ("motion", "election", "confidence", "confidence_vote", "opinion")
MOTION_ANSWERS: Final = ("for", "against", "abstain")
CONFIDENCE_ANSWERS: Final = ("high", "trust", "low")
CONFIDENCE_VOTE_ANSWERS: Final = ("trust", "no_trust")
CANDIDATE_KINDS: Final = ("election", "confidence")
# Fixed answer codes per kind; the labels shown (Tán thành, Đồng ý, ...) live with the body.
FIXED_ANSWERS: Final[dict[str, tuple[str, ...]]] = {
    "election": MOTION_ANSWERS,
    "confidence": CONFIDENCE_ANSWERS,
    "confidence_vote": CONFIDENCE_VOTE_ANSWERS,
}
DEFAULT_RULE: Final = "more_than_half_of_total"


@dataclass(frozen=True)
class PollSpec:
    """A poll as the chair opened it, validated once so ballots and tallies can trust it."""

    id: str
    question: str
    method: Method
    kind: Kind
    answers: tuple[str, ...]
    rule: str | None
    candidates: tuple[str, ...] = ()
    choose: int | None = None
    allow_correction: bool = False


def invalid(message_vi: str, message_en: str, **detail: Any) -> PhsError:
    """A refusal with code ``invalid`` that says what is wrong, in both languages."""
    return refuse("invalid", message_vi, message_en, **detail)


def _text_list(value: object, field: str) -> list[str]:
    """A JSON list of distinct non-empty strings, or a refusal naming the field."""
    if value is None:
        return []
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, str) and v.strip() for v in value
    ):
        raise invalid(
            f"Trường {field} phải là danh sách chuỗi không rỗng.",
            f"{field} must be a list of non-empty strings.",
            field=field,
        )
    items = [str(v) for v in value]
    if len(set(items)) != len(items):
        raise invalid(
            f"Trường {field} có giá trị trùng lặp.", f"{field} has duplicates.", field=field
        )
    return items


def infer_kind(answers: list[str], candidates: list[str], rule: str | None) -> Kind:
    """The kind SCENARIO.md implies when the chair did not name one."""
    codes = set(answers)
    if candidates and codes & {"high", "low"}:
        return "confidence"
    if "no_trust" in codes:
        return "confidence_vote"
    if candidates:
        return "election"
    if not codes <= set(MOTION_ANSWERS) and rule is None:
        return "opinion"
    return "motion"


def _check_answers(kind: Kind, answers: list[str]) -> tuple[str, ...]:
    """The answer codes a kind allows; fixed kinds default to their codes when none are given."""
    if not answers:
        if kind == "opinion":
            raise invalid(
                "Chưa có phương án trả lời.", "An opinion poll needs answers.", field="answers"
            )
        return FIXED_ANSWERS.get(kind, MOTION_ANSWERS)
    if kind == "motion":
        if not set(answers) <= set(MOTION_ANSWERS) or "for" not in answers:
            raise invalid(
                "Biểu quyết phải dùng for/against/abstain và có 'for'.",
                "A motion's answers are for/against/abstain and include 'for'.",
                field="answers",
            )
    elif kind in FIXED_ANSWERS and set(answers) != set(FIXED_ANSWERS[kind]):
        raise invalid(
            f"Phương án trả lời không đúng cho loại {kind}.",
            f"A {kind} poll answers {', '.join(FIXED_ANSWERS[kind])}.",
            field="answers",
        )
    return tuple(answers)


#: Kinds the law holds by secret ballot only.
SECRET_KINDS = frozenset({"election", "confidence", "confidence_vote"})


def make_spec(
    id: str,
    question: str,
    method: str,
    answers: list[str],
    rule: str | None,
    kind: str | None = None,
    candidates: list[str] | None = None,
    choose: int | None = None,
    allow_correction: bool = False,
) -> PollSpec:
    """Validate a poll the chair opens, inferring its kind; refuses with ``invalid``."""
    if not isinstance(id, str) or not id.strip():
        raise invalid("Thiếu mã lượt biểu quyết.", "The poll needs an id.", field="id")
    if not isinstance(question, str) or not question.strip():
        raise invalid("Nội dung biểu quyết trống.", "The question is empty.", field="question")
    if method not in ("public", "secret"):
        raise invalid(
            "Hình thức phải là công khai hoặc bỏ phiếu kín.",
            "Method is public or secret.",
            field="method",
        )
    if rule is not None and rule not in RULES:
        raise invalid(f"Quy tắc không hợp lệ: {rule}.", f"Unknown rule {rule!r}.", field="rule")
    answer_list = _text_list(answers, "answers")
    names = _text_list(candidates, "candidates")
    if kind is None:
        poll_kind = infer_kind(answer_list, names, rule)
    elif kind in KINDS:
        poll_kind = cast(Kind, kind)
    else:
        raise invalid(
            f"Loại biểu quyết không hợp lệ: {kind}.", f"Unknown kind {kind!r}.", field="kind"
        )
    codes = _check_answers(poll_kind, answer_list)
    if poll_kind in CANDIDATE_KINDS and not names:
        raise invalid(
            "Chưa có danh sách ứng cử viên.",
            f"A {poll_kind} poll needs candidates.",
            field="candidates",
        )
    if poll_kind in ("motion", "opinion") and names:
        raise invalid(
            "Loại này không có ứng cử viên.",
            f"A {poll_kind} poll has no candidates.",
            field="candidates",
        )
    if poll_kind == "opinion" and rule is not None:
        raise invalid(
            "Lấy ý kiến không có quy tắc thông qua.", "An opinion poll has no rule.", field="rule"
        )
    if choose is not None:
        if poll_kind != "election":
            raise invalid(
                "Chỉ bầu cử mới có số người được chọn.", "Only elections choose.", field="choose"
            )
        if isinstance(choose, bool) or not isinstance(choose, int) or not 1 <= choose <= len(names):
            raise invalid(
                "Số người được chọn phải từ 1 đến số ứng cử viên.",
                "choose must be between 1 and the number of candidates.",
                field="choose",
            )
    if rule is None and poll_kind in ("motion", "election"):
        rule = DEFAULT_RULE  # the law's default: more than half of all delegates
    return PollSpec(
        id=id,
        question=question,
        method=cast(Method, method),
        kind=poll_kind,
        answers=codes,
        rule=rule,
        candidates=tuple(names),
        choose=choose,
        allow_correction=bool(allow_correction),
    )


def _is_candidate_poll(spec: PollSpec) -> bool:
    """Whether ballots answer per candidate (a vote of confidence may or may not)."""
    return bool(spec.candidates)


def normalize_ballot(spec: PollSpec, answer: str | None, answers: dict[str, str] | None) -> Ballot:
    """Check a ballot against its poll; returns the stored form, a code or ``{candidate: code}``."""
    if not _is_candidate_poll(spec):
        if answers is not None or not isinstance(answer, str):
            raise invalid(
                "Phiếu phải có một phương án trả lời.",
                "The ballot needs one answer.",
                field="answer",
            )
        if answer not in spec.answers:
            raise invalid(
                f"Phương án không hợp lệ: {answer}.", f"Unknown answer {answer!r}.", field="answer"
            )
        return answer
    if answer is not None or not isinstance(answers, dict) or not answers:
        raise invalid(
            "Phiếu phải trả lời cho từng ứng cử viên.",
            "The ballot needs an answer per candidate.",
            field="answers",
        )
    # A tablet may send a candidate's name in another normal form (NFD from some keyboards).
    answers = {(name if name in spec.candidates or not isinstance(name, str) else nfc(name)): code for name, code in answers.items()}
    for name, code in answers.items():
        if name not in spec.candidates:
            raise invalid(
                f"Không có ứng cử viên {name}.", f"Unknown candidate {name!r}.", field="answers"
            )
        if not isinstance(code, str) or code not in spec.answers:
            raise invalid(
                f"Phương án không hợp lệ: {code}.", f"Unknown answer {code!r}.", field="answers"
            )
    if spec.kind == "election":
        chosen = sum(1 for code in answers.values() if code == "for")
        if spec.choose is not None and chosen > spec.choose:
            raise invalid(
                f"Chỉ được chọn tối đa {spec.choose} người.",
                f"At most {spec.choose} may be chosen.",
                field="answers",
            )
        # Every candidate on a stored election ballot: a left-out one is an abstention.
        return {c: answers.get(c, "abstain") for c in spec.candidates}
    return {c: answers[c] for c in spec.candidates if c in answers}


def renormalize(spec: PollSpec, ballot: Ballot) -> Ballot:
    """Re-check a stored ballot so a bad record can never skew a result."""
    if isinstance(ballot, dict):
        return normalize_ballot(spec, None, ballot)
    return normalize_ballot(spec, ballot, None)
