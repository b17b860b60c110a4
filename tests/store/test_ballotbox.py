"""Secret ballot box: random slots, order independent of casting, nothing readable on disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.meeting import decide as _rules  # noqa: F401  (registers the command handlers before poll_commands)
from appliance.meeting.poll_commands import MAX_SECRET_BALLOT
from appliance.store.ballotbox import MAX_PAYLOAD, BallotBox

KEY = bytes(range(32))


def test_choices_round_trip_per_poll(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY)
    box.cast("p1", "for")
    box.cast("p1", "against")
    box.cast("p2", {"Nguyễn Văn An": "for", "Trần Thị Bình": "against"})
    box.close()
    again = BallotBox.open(tmp_path / "box", KEY)
    assert sorted(again.choices("p1")) == ["against", "for"]
    assert again.choices("p2") == [{"Nguyễn Văn An": "for", "Trần Thị Bình": "against"}]
    assert (again.count("p1"), again.count("p3")) == (2, 0)


def test_file_is_preallocated_and_fixed_size(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=64)
    size = (tmp_path / "box").stat().st_size
    box.cast_batch([("p1", "for")] * 10)
    assert (tmp_path / "box").stat().st_size == size
    assert box.capacity == 64


def test_secret_ballot_leaves_no_plaintext_on_disk(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=16)
    box.cast_batch([("poll-xyz", {"Nguyễn Văn An": "for"}), ("poll-xyz", "against")])
    raw = (tmp_path / "box").read_bytes()
    for needle in ("Nguyễn Văn An".encode(), b"against", b"poll-xyz", b'"c"'):
        assert needle not in raw


def test_cast_batch_fsyncs_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=64)
    calls: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real(fd))[1])
    box.cast_batch([("p", "for")] * 20)
    assert len(calls) == 1


def test_growth_keeps_every_choice(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=4)
    box.cast_batch([("p", f"c{i}") for i in range(11)])
    assert box.capacity == 16
    box.close()
    assert sorted(BallotBox.open(tmp_path / "box", KEY).choices("p")) == sorted(
        f"c{i}" for i in range(11)
    )


def test_a_longer_ballot_widens_every_slot_and_keeps_every_choice(tmp_path: Path) -> None:
    """A confidence assessment of 40 officials does not fit 1 KiB: the box re-seals all slots wider."""
    box = BallotBox.open(tmp_path / "box", KEY, slots=8)
    box.cast_batch([("p1", "for"), ("p1", "against")])
    slate = {f"Nguyễn Văn Cán Bộ {i:02d}": "trust" for i in range(40)}
    box.cast("p2", slate)
    box.close()
    raw = (tmp_path / "box").read_bytes()
    slot = (len(raw) - 17) // 8
    assert (len(raw) - 17) % 8 == 0 and slot > 2048  # every one of the 8 slots is the wider size
    again = BallotBox.open(tmp_path / "box", KEY)
    assert (sorted(again.choices("p1")), again.choices("p2")) == (["against", "for"], [slate])


def test_a_choice_beyond_the_largest_slot_is_refused(tmp_path: Path) -> None:
    box = BallotBox.open(tmp_path / "box", KEY, slots=4)
    with pytest.raises(PhsError) as refused:
        box.cast("p", "x" * (MAX_PAYLOAD + 1))
    assert (refused.value.code, refused.value.message) == ("payload_too_large", "Phiếu bầu quá lớn để cất vào hòm phiếu kín.")
    assert box.count("p") == 0


def test_the_poll_rules_know_the_largest_slot() -> None:
    assert MAX_SECRET_BALLOT == MAX_PAYLOAD


def test_tampered_box_refuses_to_open(tmp_path: Path) -> None:
    BallotBox.open(tmp_path / "box", KEY, slots=4).cast("p", "for")
    raw = bytearray((tmp_path / "box").read_bytes())
    raw[40] ^= 1
    (tmp_path / "box").write_bytes(bytes(raw))
    with pytest.raises(PhsError) as refused:
        BallotBox.open(tmp_path / "box", KEY)
    assert refused.value.code == "internal"


def _first_cast_rank(tmp_path: Path, run: int, slots: int, votes: int) -> int:
    box = BallotBox.open(tmp_path / f"box{run}", KEY, slots=slots)
    box.cast_batch([("p", f"v{i}") for i in range(votes)])
    rank = box.choices("p").index("v0")
    box.close()
    return rank


@pytest.mark.parametrize(("slots", "votes"), [(16, 8), (4, 8)])  # (4, 8): through two doublings
def test_stored_order_is_independent_of_cast_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slots: int, votes: int
) -> None:
    monkeypatch.setattr(os, "fsync", lambda fd: None)  # placement is under test, not durability
    runs = 400
    counts = [0] * votes
    for run in range(runs):
        counts[_first_cast_rank(tmp_path, run, slots, votes)] += 1
    expected = runs / votes
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    # 7 degrees of freedom: P(chi2 > 24.32) = 0.001, so a fair box fails once in a thousand runs
    assert chi2 < 24.32, counts
