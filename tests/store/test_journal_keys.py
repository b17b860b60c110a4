"""Per-sitting data keys in the journal: shredding keeps the chain verifiable; providers find the KEK."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from appliance.core.errors import PhsError
from appliance.store import frames
from appliance.store.journal import Journal
from appliance.store.keys import Keyring
from appliance.store.providers import (
    FileKeyProvider,
    Tpm2KeyProvider,
    UsbKeyProvider,
    make_provider,
)
from appliance.store.sealing import seal
from appliance.store.verify import verify_journal

SESSION = secrets.token_bytes(32)


class Keys:
    """A key lookup with the erase semantics of the Keyring: None erased, LookupError unknown."""

    def __init__(self) -> None:
        self.keys = {"sitting-s1": secrets.token_bytes(32), "sitting-s2": secrets.token_bytes(32)}
        self.erased: set[str] = set()

    def __call__(self, name: str) -> bytes | None:
        if name in self.erased:
            return None
        return self.keys[name] if name in self.keys else _unknown(name)


def _unknown(name: str) -> bytes:
    raise LookupError(name)


def rec(i: int) -> dict[str, Any]:
    return {"events": [{"type": "x", "i": i}]}


async def write(tmp: Path, keys: Keys) -> list[tuple[int, str]]:
    """Session, then sitting s1, then session, then s2: positions and the key of each."""
    plan = ["session", "sitting-s1", "sitting-s1", "sitting-s1", "session", "sitting-s2", "sitting-s2", "session"]
    journal = await Journal.open(tmp, SESSION, keys=keys)
    out = [(await journal.append(rec(i), key_name=name), name) for i, name in enumerate(plan)]
    await journal.close()
    return out


async def test_shredded_sitting_keeps_the_chain_verifiable(tmp_path: Path) -> None:
    keys = Keys()
    written = await write(tmp_path, keys)
    segment = frames.list_segments(tmp_path)[0]
    assert [h.key_id for h in _headers(segment)] == [name for _, name in written]
    assert verify_journal(tmp_path, SESSION, keys=keys).shredded == 0
    keys.erased.add("sitting-s1")
    report = verify_journal(tmp_path, SESSION, keys=keys)
    assert (report.ok, report.records, report.shredded, report.shredded_keys) == (True, 8, 3, ["sitting-s1"])
    journal = await Journal.open(tmp_path, SESSION, keys=keys)
    assert [p for p, _ in journal.records()] == [1, 5, 6, 7, 8]
    with pytest.raises(PhsError) as refused:
        journal.submit(rec(9), key_name="sitting-s1")
    assert refused.value.code == "conflict"
    assert await journal.append(rec(9), key_name="sitting-s2") == 9
    await journal.close()
    assert verify_journal(tmp_path, SESSION, keys=keys).ok is True


async def test_deleting_a_shredded_record_is_still_caught(tmp_path: Path) -> None:
    keys = Keys()
    await write(tmp_path, keys)
    keys.erased.add("sitting-s1")
    segment = frames.list_segments(tmp_path)[0]
    spans = _headers(segment)
    data = segment.read_bytes()
    segment.write_bytes(data[: spans[2].start] + data[spans[2].end :])  # the middle s1 record
    report = verify_journal(tmp_path, SESSION, keys=keys)
    assert (report.ok, report.first_bad) == (False, 3)


async def test_a_changed_key_id_is_damage_not_shredding(tmp_path: Path) -> None:
    keys = Keys()
    await write(tmp_path, keys)
    segment = frames.list_segments(tmp_path)[0]
    last = _headers(segment)[-1]
    data = bytearray(segment.read_bytes())
    at = data.index(b"session", last.start)
    data[at : at + 7] = b"sessioN"  # a plausible name nobody ever issued
    segment.write_bytes(bytes(data))
    report = verify_journal(tmp_path, SESSION, keys=keys)
    assert (report.ok, report.first_bad, report.shredded) == (False, 8, 0)
    assert "unknown data key" in report.problems[0]


async def test_version_1_frames_still_open_and_chain_on(tmp_path: Path) -> None:
    prev, blob = frames.GENESIS, b""
    for position in (1, 2):
        header = frames.HEADER.pack(position, frames.KIND_RECORD_V1)
        plain = json.dumps({"p": position, "prev": prev.hex(), "r": rec(position)}).encode()
        body = header + seal(SESSION, plain, header)
        frame = frames.LEN.pack(len(body)) + body
        prev, blob = hashlib.sha256(frame).digest(), blob + frame
    (tmp_path / frames.segment_name(1)).write_bytes(blob)
    journal = await Journal.open(tmp_path, SESSION)
    assert await journal.append(rec(3)) == 3
    await journal.close()
    assert verify_journal(tmp_path, SESSION).ok is True
    journal = await Journal.open(tmp_path, SESSION)
    assert [r for _, r in journal.records()] == [rec(1), rec(2), rec(3)]
    await journal.close()


def _headers(path: Path) -> list[frames.Header]:
    buf, off, out = path.read_bytes(), 0, []
    while off < len(buf):
        h = frames.read_header(buf, off)
        out.append(h)
        off = h.end
    return out


def test_usb_provider_finds_the_stick_by_label(tmp_path: Path) -> None:
    device = tmp_path / "dev" / "sdb1"
    device.parent.mkdir()
    device.write_bytes(b"")
    by_label = tmp_path / "by-label"
    by_label.mkdir()
    (by_label / "PHS-KEY").symlink_to(device)
    mount = tmp_path / "media" / "phs key"
    (mount / "phs").mkdir(parents=True)
    (mount / "phs" / "kek.key").write_bytes(secrets.token_bytes(32))
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/root / ext4 rw 0 0\n{device} {str(mount).replace(' ', chr(92) + '040')} vfat rw 0 0\n")
    usb = UsbKeyProvider("PHS-KEY", by_label=by_label, mounts=mounts)
    assert usb.mount_point() == mount and usb.available()
    assert usb.read_kek() == (mount / "phs" / "kek.key").read_bytes()
    absent = UsbKeyProvider("OTHER", by_label=by_label, mounts=mounts)
    with pytest.raises(PhsError) as locked:
        absent.read_kek()
    assert locked.value.code == "locked" and "OTHER" in locked.value.message_en


def test_keyring_opens_through_a_stick_and_rotates_on_it(tmp_path: Path) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    usb = UsbKeyProvider("PHS-KEY", stick)
    ring = Keyring.open(tmp_path / "unused", tmp_path / "data", create=True, provider=usb)
    key = ring.data_key("session")
    old = (stick / "phs" / "kek.key").read_bytes()
    ring.rotate_kek(secrets.token_bytes(32))
    assert (stick / "phs" / "kek.key").read_bytes() != old
    again = Keyring.open(tmp_path / "unused", tmp_path / "data", create=False, provider=usb)
    assert again.data_key("session") == key
    assert not (tmp_path / "unused").exists()


def test_tpm2_is_a_documented_refusal(tmp_path: Path) -> None:
    with pytest.raises(PhsError) as refused:
        Keyring.open(tmp_path / "k", tmp_path / "d", create=True, provider=Tpm2KeyProvider())
    assert refused.value.code == "not_supported"
    assert isinstance(make_provider("file", tmp_path), FileKeyProvider)
    with pytest.raises(PhsError):
        make_provider("floppy", tmp_path)


def test_a_lost_kek_is_never_replaced_over_sealed_data(tmp_path: Path) -> None:
    keys, data = tmp_path / "keys", tmp_path / "data"
    Keyring.open(keys, data, create=True).data_key("session")
    (keys / "kek.key").unlink()
    before = sorted(p.name for p in data.rglob("*"))
    with pytest.raises(PhsError) as refused:
        Keyring.open(keys, data, create=True)
    assert refused.value.code == "locked" and "missing" in refused.value.message_en
    assert not (keys / "kek.key").exists()
    assert sorted(p.name for p in data.rglob("*")) == before


async def test_verify_counts_sittings_by_their_key_and_by_their_opening(tmp_path: Path) -> None:
    keys = Keys()
    await write(tmp_path, keys)
    journal = await Journal.open(tmp_path, SESSION, keys=keys)
    opening = {"type": "sitting_opened", "sitting_id": "s3", "at": 1.0, "mono": 1.0}
    await journal.append({"events": [opening]})  # opened, nothing sealed with its own key yet
    await journal.close()
    assert verify_journal(tmp_path, SESSION, keys=keys).sittings == 3
    keys.erased.add("sitting-s1")  # a shredded sitting is still found by the key its frames name
    report = verify_journal(tmp_path, SESSION, keys=keys)
    assert (report.ok, report.records, report.sittings, report.shredded_keys) == (True, 9, 3, ["sitting-s1"])
