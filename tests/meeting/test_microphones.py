"""The microphone policy over every mode, limits 1..25 and long random sequences of presses,
grants, releases and mode changes: the invariants hold after every step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from appliance.meeting import microphones as m

MAX_OPENS = [1, 2, 3, 4, 5, 8, 13, 24, 25]
CHAIR = m.Mic("chair", presiding=True)


@dataclass
class Hall:
    """A tiny hall driven only by the policy's decisions (what floor.py does with events)."""

    policy: m.Policy
    open: list[m.Mic] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)

    def _apply(self, d: m.Decision) -> None:
        assert d.refuse is None
        self.open = [x for x in self.open if x.participant_id not in d.close]
        if d.open is not None:
            self.open.append(m.Mic(d.open, d.open == "chair"))
            if d.open in self.queue:
                self.queue.remove(d.open)
        if d.queue:
            self.queue.append(self._last)
        self._promote()

    def _promote(self) -> None:
        for pid in m.promote(self.policy, self.open, self.queue):
            self.queue.remove(pid)
            self.open.append(m.Mic(pid))

    def press(self, who: m.Mic) -> m.Decision:
        self._last = who.participant_id
        if who.participant_id in self.queue:
            return m.Decision()
        d = m.press(self.policy, self.open, who)
        self._apply(d)
        return d

    def grant(self, who: m.Mic) -> m.Decision:
        self._last = who.participant_id
        d = m.grant(self.policy, self.open, who)
        if d.refuse is None:
            self._apply(d)
        return d

    def release(self, pid: str) -> None:
        self.open = [x for x in self.open if x.participant_id != pid]
        self._promote()

    def set(self, policy: m.Policy) -> tuple[str, ...]:
        self.policy = policy
        closed = m.change(policy, self.open)
        self.open = [x for x in self.open if x.participant_id not in closed]
        self._promote()
        return closed


def delegates_open(hall: Hall) -> list[str]:
    return [x.participant_id for x in m.counted(hall.open)]


@pytest.mark.parametrize("mode", m.MODES)
@pytest.mark.parametrize("max_open", MAX_OPENS)
@pytest.mark.parametrize("seed", range(6))
def test_invariants_hold_over_random_sequences(mode: str, max_open: int, seed: int) -> None:
    rng = random.Random(f"{mode}-{max_open}-{seed}")
    hall = Hall(m.Policy(mode, max_open))
    people = [m.Mic(f"d{i}") for i in range(1, 31)]
    for _ in range(300):
        action = rng.choice(["press", "press", "grant", "release", "chair", "chair_off"])
        who = rng.choice(people)
        before = delegates_open(hall)
        if action == "press":
            hall.press(who)
            if mode in ("request", "chair_only"):
                assert delegates_open(hall) == before  # a press never opens a microphone here
            if mode == "override" and who.participant_id not in before:
                assert delegates_open(hall)[-1] == who.participant_id
                assert set(before) - set(delegates_open(hall)) <= set(before[:1])  # only the longest-open goes
        elif action == "grant":
            d = hall.grant(who)
            if mode == "chair_only":
                assert d.refuse == "conflict"
            elif who.participant_id not in before:
                assert delegates_open(hall)[-1] == who.participant_id
        elif action == "release" and hall.open:
            hall.release(rng.choice(hall.open).participant_id)
        elif action == "chair":
            hall.press(CHAIR)
            assert any(x.presiding for x in hall.open)  # the chair may always speak
        elif action == "chair_off":
            hall.release("chair")
        opened = delegates_open(hall)
        assert len(opened) <= max_open
        assert len(opened) == len(set(opened))
        if mode == "chair_only":
            assert set(opened) <= set(before)  # nothing a delegate does opens a microphone
        if mode == "open":
            # Nobody waits while a microphone is free, and nobody both waits and speaks.
            assert not hall.queue or len(opened) == max_open
            assert not set(hall.queue) & set(opened)


@pytest.mark.parametrize("max_open", MAX_OPENS)
def test_open_mode_fills_then_queues_then_promotes_in_order(max_open: int) -> None:
    hall = Hall(m.Policy("open", max_open))
    for i in range(max_open + 3):
        hall.press(m.Mic(f"d{i}"))
    assert delegates_open(hall) == [f"d{i}" for i in range(max_open)]
    assert hall.queue == [f"d{i}" for i in range(max_open, max_open + 3)]
    hall.release("d0")
    assert delegates_open(hall)[-1] == f"d{max_open}"
    assert hall.queue == [f"d{max_open + 1}", f"d{max_open + 2}"]


@pytest.mark.parametrize("max_open", MAX_OPENS)
def test_override_closes_the_one_open_longest(max_open: int) -> None:
    hall = Hall(m.Policy("override", max_open))
    hall.press(CHAIR)
    for i in range(max_open + 2):
        hall.press(m.Mic(f"d{i}"))
    assert delegates_open(hall) == [f"d{i}" for i in range(2, max_open + 2)]
    assert hall.open[0] == CHAIR  # the chair's microphone is never counted or displaced
    assert hall.queue == []


@pytest.mark.parametrize("max_open", MAX_OPENS)
def test_request_mode_grant_at_capacity_ends_the_oldest(max_open: int) -> None:
    hall = Hall(m.Policy("request", max_open))
    for i in range(max_open):
        assert hall.press(m.Mic(f"d{i}")).queue
    for i in range(max_open):
        hall.grant(m.Mic(f"d{i}"))
    hall.grant(m.Mic("late"))
    assert delegates_open(hall) == [*(f"d{i}" for i in range(1, max_open)), "late"]


def test_chair_only_closes_every_delegate_and_refuses_grants() -> None:
    hall = Hall(m.Policy("open", 5))
    for pid in ("d1", "d2", "chair"):
        hall.press(m.Mic(pid, pid == "chair"))
    assert hall.set(m.Policy("chair_only", 5)) == ("d1", "d2")
    assert [x.participant_id for x in hall.open] == ["chair"]
    assert hall.grant(m.Mic("d3")).refuse == "conflict"
    assert m.heard(m.Policy("chair_only", 5), [m.Mic("d9"), CHAIR]) == ["chair"]


@pytest.mark.parametrize("new_max", MAX_OPENS)
def test_lowering_max_open_closes_the_oldest(new_max: int) -> None:
    hall = Hall(m.Policy("override", 25))
    for i in range(25):
        hall.press(m.Mic(f"d{i:02d}"))
    closed = hall.set(m.Policy("override", new_max))
    assert closed == tuple(f"d{i:02d}" for i in range(25 - new_max))
    assert len(delegates_open(hall)) == new_max


@pytest.mark.parametrize(
    ("mode", "max_open", "ok"),
    [("request", 1, True), ("open", 25, True), ("override", 0, False), ("chair_only", 26, False),
     ("loud", 3, False), ("open", True, False), ("open", "3", False)],
)
def test_valid_policies(mode: str, max_open: object, ok: bool) -> None:
    assert m.valid_policy(mode, max_open) is ok
