"""Microphone policy — chế độ micro: who may have an open microphone, decided without I/O.

The floor rules (``floor.py``) ask this module what a press, a grant or a change of
mode does to the open microphones, then turn the answer into events. Keeping the
policy pure lets it be tested over every mode, every ``max_open`` and long sequences.

Modes (as a People's Council hall is run):

- ``request`` — delegates ask; only a speaker the chair gives the floor is heard. A
  grant when ``max_open`` delegate microphones are already open closes the one open
  longest: the chair's grant is the decision.
- ``open`` — delegates switch their own microphone on, up to ``max_open`` at once;
  further presses wait in the queue and get the microphone, in order, as one closes.
- ``override`` — delegates switch on themselves; at ``max_open`` a new speaker closes
  the microphone open longest (the newest voice wins, nobody waits).
- ``chair_only`` — only the chair's and vice chair's microphones open; requests wait.

The chair's and vice chair's microphones are never counted against ``max_open`` and
never closed to make room: whoever presides must always be able to speak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MODES = ("request", "open", "override", "chair_only")
MAX_OPEN_RANGE = (1, 25)


@dataclass(frozen=True)
class Policy:
    """The hall's microphone mode and how many delegate microphones may be open."""

    mode: str = "request"
    max_open: int = 1


@dataclass(frozen=True)
class Mic:
    """An open microphone: whose, and whether they preside (chair, vice chair)."""

    participant_id: str
    presiding: bool = False


@dataclass(frozen=True)
class Decision:
    """What to do: microphones to close (oldest first), one to open, or queue the asker."""

    close: tuple[str, ...] = ()
    open: str | None = None
    queue: bool = False
    refuse: str | None = None  # an error code when the action is not allowed in this mode


def valid_policy(mode: object, max_open: object) -> bool:
    """Whether a mode and limit are ones the hall supports (1..25 delegate microphones)."""
    return (
        isinstance(mode, str)
        and mode in MODES
        and isinstance(max_open, int)
        and not isinstance(max_open, bool)
        and MAX_OPEN_RANGE[0] <= max_open <= MAX_OPEN_RANGE[1]
    )


def counted(open_mics: Sequence[Mic]) -> list[Mic]:
    """Open delegate microphones, oldest first; presiding ones do not count."""
    return [m for m in open_mics if not m.presiding]


def _make_room(policy: Policy, open_mics: Sequence[Mic], extra: int = 1) -> tuple[str, ...]:
    """The oldest delegate microphones to close so ``extra`` more fit under ``max_open``."""
    delegates = counted(open_mics)
    excess = len(delegates) + extra - policy.max_open
    return tuple(m.participant_id for m in delegates[: max(0, excess)])


def press(policy: Policy, open_mics: Sequence[Mic], who: Mic) -> Decision:
    """A delegate asks for the floor (the unit's button or the tablet's request)."""
    if any(m.participant_id == who.participant_id for m in open_mics):
        return Decision()  # already open: nothing to do
    if who.presiding:
        return Decision(open=who.participant_id)
    if policy.mode in ("request", "chair_only"):
        return Decision(queue=True)
    if policy.mode == "open":
        if len(counted(open_mics)) < policy.max_open:
            return Decision(open=who.participant_id)
        return Decision(queue=True)
    # override: the newest voice wins
    return Decision(close=_make_room(policy, open_mics), open=who.participant_id)


def grant(policy: Policy, open_mics: Sequence[Mic], who: Mic) -> Decision:
    """The chair gives the floor to ``who``."""
    if any(m.participant_id == who.participant_id for m in open_mics):
        return Decision()
    if who.presiding:
        return Decision(open=who.participant_id)
    if policy.mode == "chair_only":
        return Decision(refuse="conflict")
    return Decision(close=_make_room(policy, open_mics), open=who.participant_id)


def promote(policy: Policy, open_mics: Sequence[Mic], waiting: Sequence[str]) -> tuple[str, ...]:
    """Who in the queue gets a microphone now that some closed (``open`` mode only)."""
    if policy.mode != "open":
        return ()
    room = policy.max_open - len(counted(open_mics))
    return tuple(waiting[: max(0, room)])


def change(policy: Policy, open_mics: Sequence[Mic]) -> tuple[str, ...]:
    """Microphones a new policy closes: every delegate's for chair_only, else the oldest over the limit."""
    if policy.mode == "chair_only":
        return tuple(m.participant_id for m in counted(open_mics))
    return _make_room(policy, open_mics, extra=0)


def open_after(open_mics: Sequence[Mic], decision: Decision) -> list[Mic]:
    """The open microphones after a decision, oldest first (for sequences and tests)."""
    out = [m for m in open_mics if m.participant_id not in decision.close]
    return out


def heard(policy: Policy, speaking: Sequence[Mic]) -> list[str]:
    """Whose microphone is open, oldest first, for the view's ``mics_open``."""
    if policy.mode == "chair_only":
        return [m.participant_id for m in speaking if m.presiding]
    return [m.participant_id for m in speaking]
