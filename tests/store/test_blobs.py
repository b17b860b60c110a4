"""Blob store: keyed ids per key name, range reads by chunk, nothing readable at rest, v1 still read."""

from __future__ import annotations

import hashlib
import hmac
import struct
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.store.blobs import CHUNK, BlobStore
from appliance.store.keys import Keyring
from appliance.store.sealing import seal

TEXT = "Nghị quyết về dự toán ngân sách — Nguyễn Văn An".encode()


def ring(tmp_path: Path) -> Keyring:
    return Keyring.open(tmp_path / "keys", tmp_path / "data", create=True)


def store(tmp_path: Path) -> BlobStore:
    return BlobStore(tmp_path / "data" / "blobs", ring(tmp_path))


def files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "blobs").rglob("*.blob"))


def sample(size: int) -> bytes:
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def test_id_is_a_keyed_hash_of_key_name_and_content_and_put_is_idempotent(tmp_path: Path) -> None:
    keys = ring(tmp_path)
    blobs = BlobStore(tmp_path / "data" / "blobs", keys)
    blob_id = blobs.put(TEXT, key_name="doc-doc_a")
    mac = keys.mac_key("doc-doc_a")
    assert blob_id == hmac.new(mac, b"phs-blob2:doc-doc_a\x00" + TEXT, hashlib.sha256).hexdigest()[:32]
    assert blob_id != hashlib.sha256(TEXT).hexdigest()[:32]
    assert blobs.put(TEXT, key_name="doc-doc_a") == blob_id
    assert len(files(tmp_path)) == 1
    assert store(tmp_path / "other").put(TEXT, key_name="doc-doc_a") != blob_id  # another box's keys


def test_same_bytes_under_two_keys_are_two_blobs(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    first = blobs.put(TEXT, key_name="doc-doc_a")
    second = blobs.put(TEXT, key_name="doc-doc_b")
    assert first != second and len(files(tmp_path)) == 2
    assert (blobs.key_name(first), blobs.key_name(second)) == ("doc-doc_a", "doc-doc_b")
    assert blobs.get(first) == blobs.get(second) == TEXT
    assert blobs.key_name(blobs.put(TEXT)) == "blobs"  # non-document blobs: the shared key


def test_round_trip_and_size(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    data = sample(3 * CHUNK + 123)
    blob_id = blobs.put(data, key_name="doc-doc_a")
    assert blobs.size(blob_id) == 3 * CHUNK + 123
    assert blobs.get(blob_id) == data
    empty = blobs.put(b"", key_name="doc-doc_a")
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
    blob_id = blobs.put(data, key_name="doc-doc_a")
    assert blobs.get_range(blob_id, start, end) == data[start:end]


def test_bad_range_is_refused(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blob_id = blobs.put(TEXT)
    with pytest.raises(PhsError) as refused:
        blobs.get_range(blob_id, 5, 2)
    assert refused.value.code == "invalid"


def test_no_plaintext_on_disk(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blobs.put(TEXT * 1000, key_name="doc-doc_a")
    for path in (tmp_path / "data").rglob("*"):
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
    blob_id = blobs.put(data, key_name="doc-doc_a")
    (path,) = files(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 1
    path.write_bytes(bytes(raw))
    assert blobs.get_range(blob_id, 0, 10) == data[:10]  # first chunk still opens alone
    with pytest.raises(PhsError) as refused:
        blobs.get(blob_id)
    assert refused.value.code == "internal"


def test_a_header_pointed_at_another_documents_key_does_not_open(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blobs.put(b"other", key_name="doc-doc_b")
    blob_id = blobs.put(TEXT, key_name="doc-doc_a")
    path = next(p for p in files(tmp_path) if p.stem == blob_id)
    path.write_bytes(path.read_bytes().replace(b"doc-doc_a", b"doc-doc_b", 1))
    with pytest.raises(PhsError) as refused:
        blobs.get(blob_id)
    assert refused.value.code == "internal"


def test_delete(tmp_path: Path) -> None:
    blobs = store(tmp_path)
    blob_id = blobs.put(TEXT)
    assert blobs.delete(blob_id) is True
    assert blobs.exists(blob_id) is False
    assert blobs.delete(blob_id) is False


def _v1_blob(keys: Keyring, directory: Path, data: bytes) -> str:
    """A blob as the store wrote it before per-document keys: ``PHSB\\x01``, sealed with "blobs"."""
    blob_id = hmac.new(keys.mac_key("blobs"), data, hashlib.sha256).hexdigest()[:32]
    parts = [struct.pack(">5sQI", b"PHSB\x01", len(data), CHUNK)]
    for index, start in enumerate(range(0, len(data), CHUNK)):
        aad = b"phs-blob:" + blob_id.encode() + struct.pack(">QQ", index, len(data))
        parts.append(seal(keys.data_key("blobs"), data[start : start + CHUNK], aad))
    (directory / blob_id[:2]).mkdir(parents=True, exist_ok=True)
    (directory / blob_id[:2] / f"{blob_id}.blob").write_bytes(b"".join(parts))
    return blob_id


def test_v1_blobs_of_an_existing_data_dir_still_read(tmp_path: Path) -> None:
    keys = ring(tmp_path)
    directory = tmp_path / "data" / "blobs"
    data = sample(2 * CHUNK + 77)
    old = _v1_blob(keys, directory, data)
    blobs = BlobStore(directory, Keyring.open(tmp_path / "keys", tmp_path / "data", create=False))
    assert blobs.get(old) == data
    assert blobs.size(old) == 2 * CHUNK + 77
    assert blobs.get_range(old, CHUNK - 3, CHUNK + 4) == data[CHUNK - 3 : CHUNK + 4]
    assert blobs.key_name(old) == "blobs"
    assert blobs.put(data) != old  # new blobs are v2, whose ids also cover the key name


def test_a_blob_whose_key_was_erased_is_refused_as_erased(tmp_path: Path) -> None:
    keys = ring(tmp_path)
    directory = tmp_path / "data" / "blobs"
    before = BlobStore(directory, keys)
    gone = before.put(TEXT, key_name="doc-doc_a")
    kept = before.put(TEXT, key_name="doc-doc_b")
    keys.erase("doc-doc_a")
    blobs = BlobStore(directory, Keyring.open(tmp_path / "keys", tmp_path / "data", create=False))
    for read in (lambda: blobs.get(gone), lambda: blobs.get_range(gone, 0, 4), lambda: blobs.put(b"x", key_name="doc-doc_a")):
        with pytest.raises(PhsError) as refused:
            read()
        err = refused.value
        assert (err.code, err.status) == ("erased", 410)
        assert (err.message, err.message_en) == ("Tài liệu này đã bị xóa khỏi máy.", "This document was erased from the box.")
    assert blobs.get(kept) == TEXT


def test_shred_keys_removes_exactly_the_blobs_of_those_keys(tmp_path: Path) -> None:
    keys = ring(tmp_path)
    directory = tmp_path / "data" / "blobs"
    blobs = BlobStore(directory, keys)
    gone = {blobs.put(TEXT, key_name="doc-doc_a"), blobs.put(sample(CHUNK + 1), key_name="doc-doc_a")}
    kept = {blobs.put(TEXT, key_name="doc-doc_b"), blobs.put(TEXT)}
    old = _v1_blob(keys, directory, b"v1")
    assert blobs.shred_keys({"doc-doc_a"}) == 2
    assert {p.stem for p in files(tmp_path)} == kept | {old} and not any(blobs.exists(b) for b in gone)
    assert blobs.shred([old, "0" * 32, "not an id"]) == 1
    assert {p.stem for p in files(tmp_path)} == kept
    assert blobs.shred_keys({"blobs"}) == 1  # the shared key's v2 blob
    assert [blobs.get(b) for b in kept if blobs.exists(b)] == [TEXT]
