"""Sealed TinyDB storage and snapshots: atomic, sealed, versioned, and never fatal when damaged."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

from appliance.core.errors import PhsError
from appliance.store.sealed import SealedStorage, Undecodable, read_sealed, write_sealed
from appliance.store.snapshots import Snapshots

KEY = bytes(range(32))
NAME = "Nguyễn Văn An"


def test_tinydb_on_sealed_storage_round_trips_and_hides_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    db = TinyDB(path, storage=SealedStorage, key=KEY)
    db.table("delegates").insert({"name": NAME, "seat": "A12"})
    db.close()
    assert NAME.encode() not in path.read_bytes()
    assert b"delegates" not in path.read_bytes()
    assert path.read_bytes()[:5] == b"PHSS\x01"
    again = TinyDB(path, storage=SealedStorage, key=KEY)
    assert again.table("delegates").all() == [{"name": NAME, "seat": "A12"}]
    assert [p.name for p in tmp_path.iterdir()] == ["registry.db"]  # no temp file left


def test_sealed_storage_refuses_wrong_key(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    TinyDB(path, storage=SealedStorage, key=KEY).insert({"a": 1})
    with pytest.raises(Undecodable) as refused:
        TinyDB(path, storage=SealedStorage, key=bytes(32)).all()
    assert refused.value.code == "internal"


def test_sealed_context_binds_a_file_to_its_use(tmp_path: Path) -> None:
    write_sealed(tmp_path / "f", KEY, {"a": 1}, b"one")
    assert read_sealed(tmp_path / "f", KEY, b"one") == {"a": 1}
    with pytest.raises(Undecodable):
        read_sealed(tmp_path / "f", KEY, b"two")


def test_not_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PhsError) as refused:
        write_sealed(tmp_path / "f", KEY, {"a": object()})
    assert refused.value.code == "invalid"


def test_snapshot_round_trip_and_keeps_two(tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path, KEY)
    assert snaps.load() is None
    for position in (10, 20, 30):
        snaps.save(position, {"who": NAME, "at": position})
    assert snaps.load() == (30, {"who": NAME, "at": 30})
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "snapshot-000000000020.sealed",
        "snapshot-000000000030.sealed",
    ]
    for path in tmp_path.iterdir():
        assert NAME.encode() not in path.read_bytes()


def test_corrupt_newest_is_set_aside_and_older_is_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    snaps = Snapshots(tmp_path, KEY)
    snaps.save(10, {"n": 10})
    snaps.save(20, {"n": 20})
    newest = tmp_path / "snapshot-000000000020.sealed"
    data = bytearray(newest.read_bytes())
    data[20] ^= 0xFF
    newest.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        assert snaps.load() == (10, {"n": 10})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "snapshot-000000000010.sealed"
    assert names[1].startswith("snapshot-000000000020.sealed.corrupt-")
    assert len(names) == 2
    assert [r.__dict__["event"] for r in caplog.records] == ["snapshot_corrupt"]


def test_all_corrupt_gives_none_without_raising(tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path, KEY)
    snaps.save(5, {"n": 5})
    (tmp_path / "snapshot-000000000005.sealed").write_bytes(b"garbage")
    (tmp_path / "snapshot-000000000007.sealed").write_bytes(b"")
    assert snaps.load() is None
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 2


def test_position_mismatch_is_treated_as_corrupt(tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path, KEY)
    snaps.save(5, {"n": 5})
    (tmp_path / "snapshot-000000000005.sealed").rename(tmp_path / "snapshot-000000000009.sealed")
    assert snaps.load() is None


def test_old_version_is_migrated(tmp_path: Path) -> None:
    Snapshots(tmp_path, KEY, version=1).save(3, {"names": ["a"]})

    def v1_to_v2(state: dict[str, Any]) -> dict[str, Any]:
        return {"participants": [{"name": n} for n in state["names"]]}

    snaps = Snapshots(tmp_path, KEY, version=2, migrations={1: v1_to_v2})
    assert snaps.load() == (3, {"participants": [{"name": "a"}]})


def test_missing_migration_falls_back_without_raising(tmp_path: Path) -> None:
    Snapshots(tmp_path, KEY, version=1).save(3, {"a": 1})
    assert Snapshots(tmp_path, KEY, version=2).load() is None
    assert (tmp_path / "snapshot-000000000003.sealed").exists()  # not corrupt: kept


def test_newer_version_is_skipped(tmp_path: Path) -> None:
    Snapshots(tmp_path, KEY, version=1).save(3, {"a": 1})
    Snapshots(tmp_path, KEY, version=3).save(4, {"a": 2})
    assert Snapshots(tmp_path, KEY, version=1).load() == (3, {"a": 1})


def test_set_aside_by_a_caller_falls_back_to_the_older_snapshot(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    snaps = Snapshots(tmp_path, KEY)
    snaps.save(10, {"n": 10})
    snaps.save(20, {"n": 20})
    with caplog.at_level(logging.WARNING):
        snaps.set_aside(20, "ValidationError")  # it opens, but its caller's model no longer fits it
    assert snaps.load() == (10, {"n": 10})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names[0] == "snapshot-000000000010.sealed"
    assert re.fullmatch(r"snapshot-000000000020\.sealed\.corrupt-\d{8}T\d{6}", names[1])
    assert len(names) == 2
    assert [(r.__dict__["event"], r.__dict__["reason"]) for r in caplog.records] == [("snapshot_corrupt", "ValidationError")]


def test_a_snapshot_is_a_sealed_tinydb_database_of_projections(tmp_path: Path) -> None:
    from tinydb import TinyDB

    Snapshots(tmp_path, KEY).save(7, {"participants": {"p_1": {"name": NAME}}, "position": 7})
    path = tmp_path / "snapshot-000000000007.sealed"
    assert NAME.encode() not in path.read_bytes() and path.read_bytes()[:4] == b"PHSS"
    db = TinyDB(path, KEY, b"phs-snapshot", storage=SealedStorage)
    assert db.table("meta").all() == [{"version": 1, "position": 7}]
    assert db.table("projections").all() == [
        {"name": "participants", "value": {"p_1": {"name": NAME}}},
        {"name": "position", "value": 7},
    ]
    db.close()


def test_a_snapshot_with_extra_meta_rows_is_set_aside(tmp_path: Path) -> None:
    from tinydb import TinyDB

    Snapshots(tmp_path, KEY).save(7, {"n": 7})
    db = TinyDB(tmp_path / "snapshot-000000000007.sealed", KEY, b"phs-snapshot", storage=SealedStorage)
    db.table("meta").insert({"version": 1, "position": 8})
    db.close()
    assert Snapshots(tmp_path, KEY).load() is None
    assert len(list(tmp_path.glob("*.corrupt-*"))) == 1
