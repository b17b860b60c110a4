"""The run's report: one line a step for people, one JSON object for programs.

The JSON shape is part of the public contract (SCENARIO.md): its four keys, plus one
extension, ``runner`` (the run's own wall time and CPU use, see ``runner.py``), present
once a run has ended. Anything else (the seed, the live channel's counts) goes to the
human report only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass(frozen=True)
class StepResult:
    """One played step: its number, whether it held, how long it took."""

    n: int
    ok: bool
    ms: float
    title: str = ""


@dataclass(frozen=True)
class Failure:
    """A step that did not hold: what was expected and what was found."""

    n: int
    step: dict[str, Any]
    expected: Any
    found: Any
    message: str


@dataclass
class Report:
    """Everything the run learned."""

    scenario: str
    steps: list[StepResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runner: dict[str, float] | None = None  # extension: the runner's own cost

    @property
    def passed(self) -> bool:
        """True when every step ran and held."""
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        """The contract's JSON report (with the ``runner`` extension once measured)."""
        out: dict[str, Any] = {
            "scenario": self.scenario,
            "passed": self.passed,
            "steps": [{"n": s.n, "ok": s.ok, "ms": round(s.ms, 1)} for s in self.steps],
            "failures": [
                {
                    "n": f.n,
                    "step": f.step,
                    "expected": f.expected,
                    "found": f.found,
                    "message": f.message,
                }
                for f in self.failures
            ],
        }
        if self.runner is not None:
            out["runner"] = dict(self.runner)
        return out

    def write_json(self, out: TextIO) -> None:
        """One JSON object on one line."""
        out.write(json.dumps(self.to_json(), ensure_ascii=False, default=str) + "\n")

    def write_human(self, out: TextIO) -> None:
        """A line a step, then each failure's detail."""
        out.write(f"Kịch bản / scenario: {self.scenario}\n")
        for step in self.steps:
            mark = "✓" if step.ok else "✗"
            out.write(f"  {mark} {step.n:>3}  {step.title:<48} {step.ms:8.1f} ms\n")
        for failure in self.failures:
            where = "setup" if failure.n == 0 else f"step {failure.n}"
            out.write(f"\n✗ {where}: {failure.message}\n")
            if failure.n:
                out.write(f"    step:     {_dump(failure.step)}\n")
            out.write(f"    expected: {_dump(failure.expected)}\n")
            out.write(f"    found:    {_dump(failure.found)}\n")
        for note in self.notes:
            out.write(f"{note}\n")
        if self.runner is not None:
            r = self.runner
            out.write(
                f"runner: {r['wall_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU ({r['cpu_percent']:.1f} % of wall), "
                f"max RSS {r['max_rss_mb']:.0f} MB; its appliance {r['children_cpu_s']:.1f} s CPU\n"
            )
        total = len(self.steps)
        good = sum(1 for s in self.steps if s.ok)
        verdict = "PASSED / ĐẠT" if self.passed else "FAILED / KHÔNG ĐẠT"
        out.write(f"\n{verdict}: {good}/{total} steps held\n")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def step_title(raw: dict[str, Any]) -> str:
    """A short description of a step for its report line."""
    parts = []
    if "as" in raw:
        parts.append(str(raw["as"]))
    if "do" in raw:
        parts.append(str(raw["do"]))
        extra = {k: v for k, v in raw.items() if k not in ("as", "do", "expect")}
        if extra:
            parts.append(" ".join(f"{k}={v}" for k, v in extra.items()))
    if "expect" in raw:
        parts.append("expect " + _dump(raw["expect"]))
    title = " ".join(parts)
    return title if len(title) <= 48 else title[:47] + "…"
