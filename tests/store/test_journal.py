"""Journal: group commit, durability, torn tails, tampering, at-rest secrecy, checkpoints."""

from __future__ import annotations

import asyncio
import logging
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.core.errors import PhsError
from appliance.store.journal import Journal
from appliance.store.verify import verify_journal

KEY = bytes(range(32))
NAME = "Nguyễn Văn An"


def record(i: int) -> dict[str, Any]:
    return {"type": "note", "i": i, "who": NAME}


async def build(directory: Path, count: int) -> None:
    journal = await Journal.open(directory, KEY)
    for i in range(1, count + 1):
        assert await journal.append(record(i)) == i
    await journal.close()


def frame_offsets(path: Path) -> list[tuple[int, int]]:
    """(start, end) of every frame in a segment, from the length prefixes."""
    data, out, off = path.read_bytes(), [], 0
    while off < len(data):
        (length,) = struct.unpack_from(">I", data, off)
        out.append((off, off + 4 + length))
        off += 4 + length
    return out


async def reopen_records(directory: Path) -> list[tuple[int, dict[str, Any]]]:
    journal = await Journal.open(directory, KEY)
    try:
        return list(journal.records())
    finally:
        await journal.close()


async def test_positions_start_at_one_and_replay_in_order(tmp_path: Path) -> None:
    await build(tmp_path, 5)
    assert await reopen_records(tmp_path) == [(i, record(i)) for i in range(1, 6)]


async def test_submit_assigns_position_at_once(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path, KEY)
    first, fut1 = journal.submit(record(1))
    second, fut2 = journal.submit(record(2))
    assert (first, second, journal.head) == (1, 2, 0)
    await asyncio.gather(fut1, fut2)
    assert journal.head == 2
    await journal.close()


async def test_records_after_skips_earlier(tmp_path: Path) -> None:
    await build(tmp_path, 6)
    journal = await Journal.open(tmp_path, KEY)
    assert [p for p, _ in journal.records(after=4)] == [5, 6]
    await journal.close()


async def test_group_commit_batches_concurrent_appends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = await Journal.open(tmp_path, KEY)
    calls = 0
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        nonlocal calls
        calls += 1
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    positions = await asyncio.gather(*(journal.append(record(i)) for i in range(1, 201)))
    await journal.close()
    assert sorted(positions) == list(range(1, 201))
    assert positions == list(range(1, 201))  # gather keeps submit order
    assert calls <= 10  # 200 records, a handful of batches (one also fsyncs the new segment's dir)
    monkeypatch.undo()
    assert await reopen_records(tmp_path) == [(i, record(i)) for i in range(1, 201)]


async def test_failed_fsync_is_never_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = await Journal.open(tmp_path, KEY)
    await journal.append(record(1))

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    futures = [journal.submit(record(i))[1] for i in (2, 3)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert [type(r) for r in results] == [PhsError, PhsError]
    assert isinstance(results[0], PhsError) and isinstance(results[0].__cause__, OSError)
    assert journal.head == 1
    with pytest.raises(PhsError) as refused:
        journal.submit(record(4))
    assert refused.value.code == "internal"
    monkeypatch.undo()
    await journal.close()


async def test_no_plaintext_at_rest(tmp_path: Path) -> None:
    await build(tmp_path, 3)
    for path in tmp_path.rglob("*"):
        blob = path.read_bytes()
        assert NAME.encode() not in blob
        assert b"note" not in blob


async def test_not_json_is_refused_without_taking_a_position(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path, KEY)
    with pytest.raises(PhsError) as refused:
        journal.submit({"bad": {1, 2}})
    assert refused.value.code == "invalid"
    assert await journal.append(record(1)) == 1
    await journal.close()


async def test_every_torn_or_corrupt_tail_recovers_the_exact_prefix(tmp_path: Path) -> None:
    source = tmp_path / "source"
    await build(source, 4)
    segment = next(source.glob("*.seg"))
    original = segment.read_bytes()
    start, end = frame_offsets(segment)[-1]
    expected = [(i, record(i)) for i in range(1, 4)]
    for cut in range(start, end):
        for mode in ("truncate", "corrupt"):
            work = tmp_path / f"{mode}-{cut}"
            work.mkdir()
            if mode == "truncate":
                data = original[:cut]
            else:
                data = bytearray(original)
                data[cut] ^= 0x5A
                data = bytes(data)
            (work / segment.name).write_bytes(data)
            assert await reopen_records(work) == expected, (mode, cut)
            assert (work / segment.name).stat().st_size == start, (mode, cut)
            journal = await Journal.open(work, KEY)
            assert await journal.append(record(99)) == 4
            await journal.close()
            assert verify_journal(work, KEY).ok is True


async def test_break_in_the_middle_refuses_to_open(tmp_path: Path) -> None:
    await build(tmp_path, 6)
    segment = next(tmp_path.glob("*.seg"))
    start, end = frame_offsets(segment)[2]
    data = bytearray(segment.read_bytes())
    data[(start + end) // 2] ^= 0x01
    segment.write_bytes(bytes(data))
    with pytest.raises(PhsError) as refused:
        await Journal.open(tmp_path, KEY)
    assert (refused.value.code, refused.value.detail["position"]) == ("internal", 3)
    assert segment.read_bytes() == bytes(data)  # nothing was cut


def _rewrite(segment: Path, order: list[int]) -> None:
    data, spans = segment.read_bytes(), frame_offsets(segment)
    segment.write_bytes(b"".join(data[spans[i][0] : spans[i][1]] for i in order))


async def test_verify_reports_a_flipped_byte(tmp_path: Path) -> None:
    await build(tmp_path, 10)
    segment = next(tmp_path.glob("*.seg"))
    start, end = frame_offsets(segment)[4]
    data = bytearray(segment.read_bytes())
    data[start + 30] ^= 0x80
    segment.write_bytes(bytes(data))
    report = verify_journal(tmp_path, KEY)
    assert (report.ok, report.first_bad, report.records) == (False, 5, 4)
    assert report.problems == [
        f"position 5: seal does not verify at segment {segment.name} offset {start}; break before the tail"
    ]


async def test_verify_reports_a_deleted_record(tmp_path: Path) -> None:
    await build(tmp_path, 10)
    segment = next(tmp_path.glob("*.seg"))
    _rewrite(segment, [0, 1, 2, 3, 5, 6, 7, 8, 9])
    report = verify_journal(tmp_path, KEY)
    assert (report.ok, report.first_bad, report.records) == (False, 5, 4)
    assert report.problems[0].startswith("position 5: position 6 where 5 expected")


async def test_verify_reports_two_reordered_records(tmp_path: Path) -> None:
    await build(tmp_path, 10)
    segment = next(tmp_path.glob("*.seg"))
    _rewrite(segment, [0, 1, 2, 3, 4, 5, 7, 6, 8, 9])
    report = verify_journal(tmp_path, KEY)
    assert (report.ok, report.first_bad, report.records) == (False, 7, 6)


async def test_deleted_second_to_last_record_is_not_mistaken_for_a_torn_tail(
    tmp_path: Path,
) -> None:
    await build(tmp_path, 5)
    segment = next(tmp_path.glob("*.seg"))
    _rewrite(segment, [0, 1, 2, 4])
    with pytest.raises(PhsError) as refused:
        await Journal.open(tmp_path, KEY)
    assert refused.value.detail["position"] == 4


async def test_verify_clean_journal(tmp_path: Path) -> None:
    await build(tmp_path, 7)
    report = verify_journal(tmp_path, KEY)
    assert report.to_dict() == {
        "ok": True,
        "records": 7,
        "first_bad": None,
        "problems": [],
        "checkpoints": 0,
        "shredded": 0,
        "shredded_keys": [],
        "sittings": 0,
    }


async def test_wrong_key_cannot_read(tmp_path: Path) -> None:
    await build(tmp_path, 2)
    report = verify_journal(tmp_path, bytes(32))
    assert (report.ok, report.first_bad) == (False, 1)


async def test_segments_roll_and_replay_across_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("appliance.store.frames.SEGMENT_LIMIT", 400)
    await build(tmp_path, 12)
    names = sorted(p.name for p in tmp_path.glob("*.seg"))
    assert len(names) > 2
    assert names[0] == "00000001.seg"
    assert await reopen_records(tmp_path) == [(i, record(i)) for i in range(1, 13)]
    assert verify_journal(tmp_path, KEY).ok is True


async def test_verify_from_skips_decrypting_covered_records(tmp_path: Path) -> None:
    await build(tmp_path, 10)
    segment = next(tmp_path.glob("*.seg"))
    start, _ = frame_offsets(segment)[2]
    data = bytearray(segment.read_bytes())
    data[start + 40] ^= 0x01  # damage inside record 3's ciphertext, covered by a snapshot at 5
    segment.write_bytes(bytes(data))
    journal = await Journal.open(tmp_path, KEY, verify_from=5)
    assert [p for p, _ in journal.records(after=5)] == [6, 7, 8, 9, 10]
    assert await journal.append(record(11)) == 11
    await journal.close()
    assert verify_journal(tmp_path, KEY).first_bad == 3  # the full check still finds it


def _raw(identity: Ed25519PrivateKey) -> bytes:
    return identity.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


async def test_checkpoints_are_signed_every_n_and_on_demand(tmp_path: Path) -> None:
    identity = Ed25519PrivateKey.generate()
    journal = await Journal.open(tmp_path, KEY, identity=identity, checkpoint_every=4)
    for i in range(1, 11):
        await journal.append(record(i))
    assert await journal.checkpoint() == 10
    await journal.close()
    report = verify_journal(tmp_path, KEY, public_key=_raw(identity))
    assert (report.ok, report.records, report.checkpoints) == (True, 10, 3)
    assert [p for p, _ in (await _replay(tmp_path))] == list(range(1, 11))


async def _replay(directory: Path) -> list[tuple[int, dict[str, Any]]]:
    return await reopen_records(directory)


async def test_checkpoint_by_another_identity_is_reported(tmp_path: Path) -> None:
    journal = await Journal.open(
        tmp_path, KEY, identity=Ed25519PrivateKey.generate(), checkpoint_every=2
    )
    for i in range(1, 4):
        await journal.append(record(i))
    await journal.close()
    report = verify_journal(tmp_path, KEY, public_key=_raw(Ed25519PrivateKey.generate()))
    assert (report.ok, report.first_bad, report.records) == (False, 3, 2)
    assert "checkpoint signed by another identity" in report.problems[0]


async def test_checkpoint_without_identity_is_refused(tmp_path: Path) -> None:
    journal = await Journal.open(tmp_path, KEY)
    with pytest.raises(PhsError) as refused:
        await journal.checkpoint()
    assert refused.value.code == "not_supported"
    await journal.close()


async def test_logs_never_carry_record_contents(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await build(tmp_path, 3)
    segment = next(tmp_path.glob("*.seg"))
    segment.write_bytes(segment.read_bytes()[:-7])  # torn tail: logged on open
    assert [p for p, _ in await reopen_records(tmp_path)] == [1, 2]
    events = [r.__dict__.get("event") for r in caplog.records]
    assert "journal_tail_cut" in events
    for rec in caplog.records:
        line = rec.getMessage() + repr(rec.__dict__)
        assert NAME not in line
        assert KEY.hex() not in line


async def test_empty_segment_left_by_a_crash_during_roll_is_reused(tmp_path: Path) -> None:
    await build(tmp_path, 3)
    (tmp_path / "00000004.seg").write_bytes(b"")
    journal = await Journal.open(tmp_path, KEY)
    assert await journal.append(record(4)) == 4
    await journal.close()
    assert sorted(p.name for p in tmp_path.glob("*.seg")) == ["00000001.seg", "00000004.seg"]
    assert await reopen_records(tmp_path) == [(i, record(i)) for i in range(1, 5)]
    assert verify_journal(tmp_path, KEY).ok is True


async def test_records_after_a_position_skip_whole_earlier_segments_and_chain_on(tmp_path: Path, monkeypatch: Any) -> None:
    """Start-up replays after the snapshot: earlier segments are not read at all."""
    from appliance.store import frames as frames_mod

    monkeypatch.setattr(frames_mod, "SEGMENT_LIMIT", 600)  # a few records a segment
    journal = await Journal.open(tmp_path, KEY)
    for i in range(40):
        await journal.append({"n": i})
    await journal.close()
    segments = frames_mod.list_segments(tmp_path)
    assert len(segments) > 4
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.suffix == frames_mod.SEGMENT_SUFFIX:
            opened.append(self.stem)
        return real_open(self, *args, **kwargs)

    journal = await Journal.open(tmp_path, KEY)
    after = int(segments[3].stem) + 1
    monkeypatch.setattr(Path, "open", spy)
    got = [(p, r["n"]) for p, r in journal.records(after=after)]
    monkeypatch.undo()
    await journal.close()
    assert got == [(p, p - 1) for p in range(after + 1, 41)]
    assert opened[0] == segments[3].stem  # it holds the frame the next one chains to; earlier ones are skipped
