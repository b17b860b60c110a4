"""Decision rules of an HĐND vote: which base a rule counts against and what meets it.

Integer arithmetic only: a vote that is one ballot short must never pass because of a
float rounding to 0.6666666667. Sources (details, quotes and what is still unverified
are in ``docs/RULES.md``):

- ``more_than_half_of_total`` — a resolution passes with MORE THAN HALF of ALL delegates
  of the body (quá nửa tổng số đại biểu Hội đồng nhân dân biểu quyết tán thành):
  Luật Tổ chức chính quyền địa phương 2015 (77/2015/QH13), Điều 91 khoản 3 (confirmed);
  in force since 16 June 2025 (two levels from 1 July 2025): Luật Tổ chức chính quyền địa phương 2025 (72/2025/QH15),
  Điều 35 "Biểu quyết của Hội đồng nhân dân" (article title confirmed; clause number
  unverified).
- ``two_thirds_of_total`` — AT LEAST two thirds of all delegates (ít nhất hai phần ba),
  required to dismiss (bãi nhiệm) a delegate: same articles as above.
- ``more_than_half_of_present`` / ``more_than_half_of_cast`` — not HĐND resolution rules;
  offered for procedural votes a body's own rules of procedure (nội quy kỳ họp) may set.
- Confidence assessment (lấy phiếu tín nhiệm) flags and the vote of confidence (bỏ phiếu
  tín nhiệm) outcome: Nghị quyết 96/2023/QH15 (thresholds confirmed; article numbers
  unverified, see ``docs/RULES.md``), counted against all delegates of the body as
  ``../shared/SCENARIO.md`` fixes.
"""

from __future__ import annotations

from typing import Final, Literal

BaseKind = Literal["total", "present", "cast"]

RULES: Final = (
    "more_than_half_of_total",
    "two_thirds_of_total",
    "more_than_half_of_present",
    "more_than_half_of_cast",
)

BASE_KIND: Final[dict[str, BaseKind]] = {
    "more_than_half_of_total": "total",
    "two_thirds_of_total": "total",
    "more_than_half_of_present": "present",
    "more_than_half_of_cast": "cast",
}

FLAG_MORE_THAN_HALF_LOW: Final = "more_than_half_low"
FLAG_TWO_THIRDS_LOW: Final = "two_thirds_low"
FLAG_MORE_THAN_HALF_NO_TRUST: Final = "more_than_half_no_trust"


def base_of(rule: str, *, total: int, present: int, cast: int) -> tuple[int, BaseKind]:
    """The count a rule is measured against, so every screen shows the same base."""
    kind = BASE_KIND[rule]
    value = {"total": total, "present": present, "cast": cast}[kind]
    return value, kind


def more_than_half(count: int, base: int) -> bool:
    """Quá nửa: strictly more than half; exactly half is not enough."""
    return 2 * count > base


def at_least_two_thirds(count: int, base: int) -> bool:
    """Ít nhất hai phần ba: two thirds exactly is enough; never met by zero votes."""
    return 3 * count >= 2 * base and count > 0


def meets(rule: str, count: int, base: int) -> bool:
    """Whether ``count`` votes meet ``rule`` against ``base``."""
    if rule == "two_thirds_of_total":
        return at_least_two_thirds(count, base)
    return more_than_half(count, base)


def threshold(rule: str, base: int) -> int:
    """The smallest count that meets ``rule`` against ``base`` (total 30: 16 or 20)."""
    if rule == "two_thirds_of_total":
        return max(1, (2 * base + 2) // 3)
    return base // 2 + 1


def low_confidence_flags(low: int, total: int) -> list[str]:
    """NQ 96/2023/QH15 thresholds for "tín nhiệm thấp", both counted against all delegates."""
    flags: list[str] = []
    if more_than_half(low, total):
        flags.append(FLAG_MORE_THAN_HALF_LOW)
    if at_least_two_thirds(low, total):
        flags.append(FLAG_TWO_THIRDS_LOW)
    return flags


def no_confidence_flags(no_trust: int, total: int) -> list[str]:
    """NQ 96/2023/QH15: more than half "không tín nhiệm" leads to dismissal proceedings."""
    return [FLAG_MORE_THAN_HALF_NO_TRUST] if more_than_half(no_trust, total) else []
