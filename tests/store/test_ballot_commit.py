"""The ballot box's commit protocol (staged, committed, discarded, recovered) and the
independence of the stored order from the order of voting."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from appliance.store.ballotbox import BallotBox

KEY = bytes(range(32))


def raw(box: BallotBox) -> list[dict[str, object]]:
    return [json.loads(s) for s in box._slots if s is not None]


def test_staged_choices_count_only_once_committed(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=8)
    box.write([("p", "for", "m1"), ("p", "against", "m2")])
    assert box.choices("p") == [] and box.pending_markers() == {"m1", "m2"}
    box.write([], commits=["m1"], discards=["m2"])
    assert box.choices("p") == ["for"] and box.pending_markers() == set()
    assert raw(box) == [{"c": "for", "poll": "p"}]  # the marker is gone from the slot
    box.close()
    again = BallotBox.open(tmp_path / "box", KEY)
    assert again.choices("p") == ["for"] and again.pending_markers() == set()


def test_recovery_keeps_what_the_journal_committed_and_drops_the_rest(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=4)
    box.write([("p", f"a{i}", f"m{i}") for i in range(6)])  # grows past 4 slots with markers kept
    box.close()  # the crash: no commit reached the box
    again = BallotBox.open(tmp_path / "box", KEY)
    assert again.pending_markers() == {f"m{i}" for i in range(6)}
    again.recover({"m0", "m3", "m5", "not-in-box"})
    assert sorted(again.choices("p")) == ["a0", "a3", "a5"]
    assert all(set(slot) == {"c", "poll"} for slot in raw(again))
    again.close()
    assert sorted(BallotBox.open(tmp_path / "box", KEY).choices("p")) == ["a0", "a3", "a5"]


def _spearman(order: list[int]) -> float:
    n = len(order)
    return 1 - 6 * sum((i - r) ** 2 for i, r in enumerate(order)) / (n * (n * n - 1))


def test_stored_order_is_independent_of_voting_order(tmp_path: Path) -> None:
    """200 sittings of 8 voters, cast one by one the way the server stages and commits them:
    where the first voter's choice lands is uniform, and stored order does not follow cast order."""
    voters = 8
    first_rank = [0] * voters
    rhos = []
    for run in range(200):
        box = BallotBox.open(tmp_path / f"box{run}", KEY, slots=4)  # grows twice on the way
        for i in range(voters):
            box.write([("p", f"v{i}", f"m{i}")])
            box.write([], commits=[f"m{i}"])
        stored = [int(str(c)[1:]) for c in box.choices("p")]
        box.close()
        assert sorted(stored) == list(range(voters))
        first_rank[stored.index(0)] += 1
        rhos.append(_spearman([stored.index(i) for i in range(voters)]))
    expected = 200 / voters
    chi2 = sum((n - expected) ** 2 / expected for n in first_rank)
    assert chi2 < 29.9, first_rank  # 7 degrees of freedom, p < 0.0002 by chance
    assert abs(statistics.fmean(rhos)) < 0.12, statistics.fmean(rhos)  # sd of the mean ≈ 0.027
