"""Blob store: keyed ids, range reads by chunk, nothing readable at rest."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.store.blobs import CHUNK, BlobStore

KEY = bytes(range(32))
MAC = bytes(range(32, 64))
TEXT = "Nghị quyết về dự toán ngân sách — Nguyễn Văn An".encode()


def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "blobs", KEY, MAC)


def sample(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def test_id_is_a_keyed_hash_and_put_is_idempotent(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blob_id = blobs.put(TEXT)
    assert blob_id == hmac.new(MAC, TEXT, hashlib.sha256).hexdigest()[:32]
    assert blob_id != hashlib.sha256(TEXT).hexdigest()[:32]
    assert blobs.put(TEXT) == blob_id
    assert len(list((tmp_path / "blobs").rglob("*.blob"))) == 1
    assert BlobStore(tmp_path / "other", KEY, bytes(32)).put(TEXT) != blob_id


def test_round_trip_and_size(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    data = sample(3 * CHUNK + 123)
    blob_id = blobs.put(data)
    assert blobs.size(blob_id) == 3 * CHUNK + 123
    assert blobs.get(blob_id) == data
    empty = blobs.put(b"")
    assert (blobs.get(empty), blobs.size(empty)) == (b"", 0)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 1),
        (0, CHUNK),
        (CHUNK - 1, CHUNK + 1),
        (5, 2 * CHUNK + 9),
        (3 * CHUNK, 3 * CHUNK + 123),
        (100, 10**9),
        (3 * CHUNK + 123, 3 * CHUNK + 200),
    ],
)
def test_range_reads_are_exact(tmp_path: Path, start: int, end: int) -> None:
    blobs = store(tmp_path)
    data = sample(3 * CHUNK + 123)
    blob_id = blobs.put(data)
    assert blobs.get_range(blob_id, start, end) == data[start:end]


def test_bad_range_is_refused(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blob_id = blobs.put(TEXT)
    with pytest.raises(PhsError) as refused:
        blobs.get_range(blob_id, 5, 2)
    assert refused.value.code == "invalid"


def test_no_plaintext_on_disk(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blobs.put(TEXT * 1000)
    for path in (tmp_path / "blobs").rglob("*"):
        if path.is_file():
            assert "Nguyễn Văn An".encode() not in path.read_bytes()
            assert b"ng\xc3\xa2n s\xc3\xa1ch" not in path.read_bytes()


def test_missing_and_malformed_ids_are_not_found(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    for blob_id in ("0" * 32, "../../etc/passwd", "abc"):
        with pytest.raises(PhsError) as refused:
            blobs.get(blob_id)
        assert refused.value.code == "not_found"


def test_damaged_chunk_is_detected(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    data = sample(2 * CHUNK)
    blob_id = blobs.put(data)
    path = next((tmp_path / "blobs").rglob("*.blob"))
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 1
    path.write_bytes(bytes(raw))
    assert blobs.get_range(blob_id, 0, 10) == data[:10]  # first chunk still opens alone
    with pytest.raises(PhsError) as refused:
        blobs.get(blob_id)
    assert refused.value.code == "internal"


def test_delete(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blob_id = blobs.put(TEXT)
    assert blobs.delete(blob_id) is True
    assert blobs.exists(blob_id) is False
    assert blobs.delete(blob_id) is False
