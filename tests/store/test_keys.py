"""Keyring: locked without a KEK, file modes, wrapped data keys, shredding, KEK rotation."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from appliance.core.errors import PhsError
from appliance.store.blobs import BlobStore
from appliance.store.keys import Keyring, _wrap, document_key_name


def dirs(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "keys", tmp_path / "data"


def test_missing_kek_is_locked_and_touches_nothing(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    with pytest.raises(PhsError) as refused:
        Keyring.open(keys, data, create=False)
    assert refused.value.code == "locked"
    assert refused.value.status == 503
    assert "khóa" in refused.value.message
    assert "key stick" in refused.value.message_en
    assert sorted(tmp_path.iterdir()) == []


def test_created_kek_is_private_and_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys, data = dirs(tmp_path)
    with caplog.at_level(logging.WARNING, logger="appliance.store.keys"):
        Keyring.open(keys, data, create=True)
    kek = keys / "kek.key"
    assert kek.stat().st_size == 32
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "key stick" in caplog.records[0].getMessage()


def test_keys_dir_inside_data_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PhsError) as refused:
        Keyring.open(tmp_path / "data" / "keys", tmp_path / "data", create=True)
    assert refused.value.code == "invalid"


def test_data_key_is_stable_wrapped_and_private(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    key = ring.data_key("sitting-01")
    assert len(key) == 32
    wrapped = data / "keys" / "sitting-01.wrapped"
    assert stat.S_IMODE(wrapped.stat().st_mode) == 0o600
    assert key not in wrapped.read_bytes()
    again = Keyring.open(keys, data, create=False)
    assert again.data_key("sitting-01") == key
    assert again.data_key("sitting-02") != key


def test_mac_key_differs_from_data_key_and_is_stable(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    mac = ring.mac_key("blobs")
    assert mac != ring.data_key("blobs")
    assert Keyring.open(keys, data, create=False).mac_key("blobs") == mac


def test_bad_key_names_are_refused(tmp_path: Path) -> None:
    ring = Keyring.open(*dirs(tmp_path), create=True)
    for name in ("../x", "", ".hidden", "a/b", "identity"):
        with pytest.raises(PhsError) as refused:
            ring.data_key(name)
        assert refused.value.code == "invalid"


def test_wrong_kek_is_locked(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    Keyring.open(keys, data, create=True).data_key("s1")
    (keys / "kek.key").write_bytes(bytes(32))
    ring = Keyring.open(keys, data, create=False)
    with pytest.raises(PhsError) as refused:
        ring.data_key("s1")
    assert refused.value.code == "locked"


def test_erase_shreds_the_key_file(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    old = ring.data_key("s1")
    ring.erase("s1")
    assert not (data / "keys" / "s1.wrapped").exists()
    assert ring.names() == []
    assert ring.erased("s1") and ring.erased_names() == ["s1"]
    assert ring.existing_key("s1") is None and ring.journal_key("s1") is None
    with pytest.raises(PhsError) as reused:
        ring.data_key("s1")  # never issued again: nothing new is sealed under an erased name
    assert reused.value.code == "conflict"
    assert old not in b"".join(p.read_bytes() for p in (data / "keys").iterdir())
    with pytest.raises(PhsError) as refused:
        ring.erase("s2")
    assert refused.value.code == "not_found"


def test_rotate_kek_keeps_data_keys(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    before = {n: ring.data_key(n) for n in ("s1", "s2")}
    public = ring.identity_public()
    wrapped_before = (data / "keys" / "s1.wrapped").read_bytes()
    new_kek = bytes(range(32))
    ring.rotate_kek(new_kek)
    assert (keys / "kek.key").read_bytes() == new_kek
    assert (data / "keys" / "s1.wrapped").read_bytes() != wrapped_before
    assert sorted(p.name for p in (data / "keys").iterdir()) == [
        "identity.wrapped",
        "s1.wrapped",
        "s2.wrapped",
    ]
    reopened = Keyring.open(keys, data, create=False)
    assert {n: reopened.data_key(n) for n in ("s1", "s2")} == before
    assert reopened.identity_public() == public


def test_erase_of_a_name_without_a_key_leaves_a_tombstone(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    ring.erase("doc-doc_old", missing_ok=True)  # a document stored before documents had keys
    assert ring.erased("doc-doc_old") and ring.erased_names() == ["doc-doc_old"] and ring.names() == []
    with pytest.raises(PhsError) as reused:
        ring.data_key("doc-doc_old")
    assert reused.value.code == "conflict"


def test_rotation_rewraps_document_keys_and_their_blobs_still_open(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    name = document_key_name("doc_a1")
    blob_id = BlobStore(data / "blobs", ring).put(b"Trang 1 \xe2\x80\x94 ng\xc3\xa2n s\xc3\xa1ch", key_name=name)
    wrapped_before = (data / "keys" / f"{name}.wrapped").read_bytes()
    ring.rotate_kek(bytes(range(32)))
    assert name == "doc-doc_a1" and name in ring.names()
    assert (data / "keys" / f"{name}.wrapped").read_bytes() != wrapped_before
    reopened = Keyring.open(keys, data, create=False)
    assert BlobStore(data / "blobs", reopened).get(blob_id) == "Trang 1 — ngân sách".encode()


def test_rotation_interrupted_before_commit_keeps_old_kek(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    key = ring.data_key("s1")
    # a staged re-wrap under a KEK that never got written: the rotation did not commit
    staged = data / "keys" / "s1.wrapped.new"
    staged.write_bytes(_wrap(bytes(range(32)), "s1", key))
    reopened = Keyring.open(keys, data, create=False)
    assert reopened.data_key("s1") == key
    assert not staged.exists()


def test_rotation_interrupted_after_commit_is_finished_on_open(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    key = ring.data_key("s1")
    new_kek = bytes(range(32))
    (data / "keys" / "s1.wrapped.new").write_bytes(_wrap(new_kek, "s1", key))
    (keys / "kek.key").write_bytes(new_kek)  # the commit point happened, promotion did not
    reopened = Keyring.open(keys, data, create=False)
    assert reopened.data_key("s1") == key
    assert not (data / "keys" / "s1.wrapped.new").exists()


def test_identity_is_stable_and_sealed(tmp_path: Path) -> None:
    keys, data = dirs(tmp_path)
    ring = Keyring.open(keys, data, create=True)
    public = ring.identity_public()
    assert len(public) == 32
    assert Keyring.open(keys, data, create=False).identity_public() == public
    assert (data / "keys" / "identity.wrapped").exists()
