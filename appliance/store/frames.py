"""The journal's on-disk format: sealed, hash-chained frames in numbered segment files.

Version 2 (written today) keeps the chain outside the seal, so it can be checked without
any data key — which is what lets a crypto-shredded sitting stay provably in place::

    len:u32 | position:u64 | kind:u8 | prev:32 | kid_len:u8 | kid | nonce:12 | ciphertext+tag

Everything from ``position`` to ``kid`` is the AES-GCM associated data. ``prev`` is the
SHA-256 of the whole previous frame (genesis: 32 zero bytes) and ``kid`` names the data
key that sealed the frame (``session``, ``sitting-<id>``). A record frame's plaintext is
the record's JSON; a checkpoint frame's is ``{"sig", "pub"}``: an Ed25519 signature over
the position it covers and ``prev``, which commits to the whole history before it.

Version 1 frames (kinds 0 and 1: ``position:u64 | kind:u8`` as associated data, the
chain inside the plaintext, always the session key) are still read, so a journal written
before per-sitting keys keeps opening and later frames chain onto it.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .sealing import NONCE_SIZE, TAG_SIZE, InvalidTag, unseal

SEGMENT_SUFFIX = ".seg"
SEGMENT_LIMIT = 16 * 1024 * 1024
MAX_RECORD = 8 * 1024 * 1024
GENESIS = b"\x00" * 32
KIND_RECORD_V1 = 0
KIND_CHECKPOINT_V1 = 1
KIND_RECORD = 2
KIND_CHECKPOINT = 3
RECORD_KINDS = (KIND_RECORD_V1, KIND_RECORD)
SESSION_KEY = "session"
LEN = struct.Struct(">I")
HEADER = struct.Struct(">QB")
HASH_SIZE = 32
MIN_BODY = HEADER.size + NONCE_SIZE + TAG_SIZE
MAX_BODY = MAX_RECORD + 4096 + MIN_BODY
CHECKPOINT_CONTEXT = b"phs-journal-checkpoint\x00"
_KID = re.compile(rb"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")

KeyLookup = Callable[[str], "bytes | None"]
"""Data key by name; None when it was erased (the frame is shredded); LookupError when unknown."""


class BadFrame(Exception):
    """A frame that cannot be read or does not belong where it is."""


def single_key(key: bytes) -> KeyLookup:
    """A lookup that knows only the session key (tools and tests of one key)."""

    def lookup(name: str) -> bytes | None:
        if name != SESSION_KEY:
            raise LookupError(name)
        return key

    return lookup


def segment_name(first_position: int) -> str:
    """File name of a segment whose first frame follows ``first_position - 1``."""
    return f"{first_position:08d}{SEGMENT_SUFFIX}"


def list_segments(directory: Path) -> list[Path]:
    """Segments in write order (names are the first position they hold)."""
    found = [p for p in directory.glob("*" + SEGMENT_SUFFIX) if p.stem.isdigit()]
    return sorted(found, key=lambda p: int(p.stem))


def checkpoint_message(at: int, prev: bytes) -> bytes:
    """What a checkpoint signs: the position covered and the hash of everything before."""
    return CHECKPOINT_CONTEXT + struct.pack(">Q", at) + prev


def header_bytes(position: int, kind: int, prev: bytes, key_id: str) -> bytes:
    """The associated data of a version 2 frame."""
    kid = key_id.encode()
    return HEADER.pack(position, kind) + prev + bytes([len(kid)]) + kid


@dataclass(frozen=True)
class Header:
    """What a frame says about itself before it is opened."""

    start: int
    end: int
    position: int
    kind: int
    prev: bytes | None  # None for version 1 (the chain is inside the seal)
    key_id: str
    aad: bytes

    @property
    def is_record(self) -> bool:
        """A record (not a checkpoint)."""
        return self.kind in RECORD_KINDS


def read_header(buf: bytes, off: int) -> Header:
    """Parse the frame at ``off``; BadFrame if it cannot be whole."""
    if len(buf) - off < LEN.size + MIN_BODY:
        raise BadFrame("truncated frame")
    (body_len,) = LEN.unpack_from(buf, off)
    if body_len < MIN_BODY or body_len > MAX_BODY:
        raise BadFrame("bad length")
    end = off + LEN.size + body_len
    if end > len(buf):
        raise BadFrame("truncated frame")
    at = off + LEN.size
    position, kind = HEADER.unpack_from(buf, at)
    if kind in (KIND_RECORD_V1, KIND_CHECKPOINT_V1):
        return Header(off, end, position, kind, None, SESSION_KEY, buf[at : at + HEADER.size])
    if kind not in (KIND_RECORD, KIND_CHECKPOINT):
        raise BadFrame("unknown frame kind")
    kid_at = at + HEADER.size + HASH_SIZE
    if kid_at + 1 > end:
        raise BadFrame("truncated frame")
    kid = buf[kid_at + 1 : kid_at + 1 + buf[kid_at]]
    if not _KID.match(kid) or kid_at + 1 + len(kid) + NONCE_SIZE + TAG_SIZE > end:
        raise BadFrame("bad key id")
    prev = buf[at + HEADER.size : kid_at]
    aad = buf[at : kid_at + 1 + len(kid)]
    return Header(off, end, position, kind, prev, kid.decode(), aad)


def open_frame(keys: KeyLookup, buf: bytes, h: Header) -> dict[str, Any] | None:
    """Decrypt one frame to ``{"r": record}`` or ``{"cp": ...}`` (v1 adds p, prev); None when its key is gone."""
    try:
        key = keys(h.key_id)
    except LookupError:
        raise BadFrame("unknown data key") from None
    if key is None:
        return None
    try:
        plain = unseal(key, buf[h.start + LEN.size + len(h.aad) : h.end], h.aad)
    except InvalidTag:
        raise BadFrame("seal does not verify") from None
    body = json.loads(plain)
    if h.prev is None:
        if not isinstance(body, dict):
            raise BadFrame("bad plaintext")
        return body
    return {"r": body} if h.kind == KIND_RECORD else {"cp": body}


def check_frame(
    h: Header, body: dict[str, Any] | None, prev: bytes, public_key: bytes | None
) -> None:
    """Check the frame names the previous hash and its position, and a checkpoint's signature."""
    if h.prev is not None:
        if h.prev != prev:
            raise BadFrame("hash chain broken")
    else:
        if body is None:  # v1 frames are sealed with the session key, which is never erased
            raise BadFrame("session key missing")
        if body.get("p") != h.position:
            raise BadFrame("position inside the seal differs from the header")
        if body.get("prev") != prev.hex():
            raise BadFrame("hash chain broken")
    if body is None:
        if not h.is_record:
            raise BadFrame("checkpoint without its key")
        return
    if not h.is_record:
        cp = body.get("cp")
        if not isinstance(cp, dict):
            raise BadFrame("checkpoint without signature")
        pub = bytes.fromhex(str(cp.get("pub", "")))
        if public_key is not None and pub != public_key:
            raise BadFrame("checkpoint signed by another identity")
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(
                bytes.fromhex(str(cp.get("sig", ""))), checkpoint_message(h.position, prev)
            )
        except (InvalidSignature, ValueError):
            raise BadFrame("checkpoint signature does not verify") from None
    elif "r" not in body:
        raise BadFrame("record without content")


def authentic_frame_at(keys: KeyLookup, buf: bytes, off: int) -> bool:
    """True when a genuine frame starts at ``off`` (used to tell a torn tail from a break).

    A well-formed v2 frame whose key is gone counts as genuine: cutting it would destroy
    the evidence of a shredded sitting, so the journal refuses rather than guesses.
    """
    try:
        h = read_header(buf, off)
        open_frame(keys, buf, h)
    except (BadFrame, ValueError):
        return False
    return True


def any_authentic_after(keys: KeyLookup, buf: bytes, start: int, later: list[Path]) -> bool:
    """Whether any genuine frame exists from ``start`` on or in a later segment."""
    for off in range(start, len(buf)):
        if authentic_frame_at(keys, buf, off):
            return True
    for path in later:
        data = path.read_bytes()
        if any(authentic_frame_at(keys, data, off) for off in range(len(data))):
            return True
    return False


@dataclass
class Problem:
    """Where the readable journal stops and why (no record content)."""

    position: int  # the record position expected at the bad spot
    segment: Path
    offset: int
    reason: str
    tail: bool  # nothing genuine follows: a torn last write, safe to cut


@dataclass
class ScanResult:
    """What a scan of the journal found."""

    segments: list[Path]
    head: int = 0
    last_hash: bytes = GENESIS
    end_offset: int = 0  # valid length of the last segment kept
    checkpoints: int = 0
    problem: Problem | None = None
    verified: int = field(default=0)  # records actually decrypted and checked
    shredded: dict[str, int] = field(default_factory=dict)  # key id -> records chain-checked only
    key_ids: set[str] = field(default_factory=set)  # every data key name a valid frame names


def scan(
    directory: Path,
    keys: KeyLookup,
    *,
    verify_from: int = 0,
    public_key: bytes | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> ScanResult:
    """Walk every frame; open and check those after ``verify_from`` (earlier ones: headers only).

    ``on_record`` is shown each record opened and checked (in order), so a reader can count
    what it holds without a second pass.
    """
    result = ScanResult(segments=list_segments(directory))
    expected, prev = 1, GENESIS
    for index, path in enumerate(result.segments):
        buf = path.read_bytes()
        off, prev_span = 0, (0, 0)
        pending_hash = False
        while off < len(buf):
            try:
                h = read_header(buf, off)
                wanted = expected if h.is_record else expected - 1
                if h.position != wanted:
                    raise BadFrame(f"position {h.position} where {wanted} expected")
                if h.position > verify_from:
                    if pending_hash:  # hash lazily: a covered prefix is only walked, not hashed
                        prev = hashlib.sha256(buf[prev_span[0] : prev_span[1]]).digest()
                        pending_hash = False
                    body = open_frame(keys, buf, h)
                    check_frame(h, body, prev, public_key)
                    if body is None:
                        result.shredded[h.key_id] = result.shredded.get(h.key_id, 0) + 1
                    else:
                        result.verified += h.is_record
                        if on_record is not None and h.is_record:
                            on_record(body["r"])
                result.checkpoints += not h.is_record
                result.key_ids.add(h.key_id)
            except (BadFrame, ValueError) as exc:
                later = result.segments[index + 1 :]
                tail = not any_authentic_after(keys, buf, off, later)
                result.problem = Problem(expected, path, off, str(exc), tail)
                break
            if h.is_record:
                result.head, expected = h.position, h.position + 1
            prev_span, pending_hash = (off, h.end), True
            off = h.end
        if pending_hash:
            prev = hashlib.sha256(buf[prev_span[0] : prev_span[1]]).digest()
        result.end_offset = off
        if result.problem is not None:
            break
    result.last_hash = prev
    return result


def iter_records(
    keys: KeyLookup, segments: list[tuple[Path, int]], after: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (position, record) after ``after``, reading each segment up to its size; shredded ones are skipped."""
    prev: bytes | None = None
    for index, (path, size) in enumerate(segments):
        following = segments[index + 1][0].stem if index + 1 < len(segments) else ""
        if following.isdigit() and int(following) < after:
            # Names are first positions: every frame here is before ``after - 1``, so none is
            # yielded and none is the one the next frame chains to. Start-up skips it unread.
            continue
        with path.open("rb") as fh:
            buf = fh.read(size)
        off = 0
        while off < len(buf):
            h = read_header(buf, off)
            wanted = h.position if h.is_record else h.position + 1
            if wanted > after:
                body = open_frame(keys, buf, h)
                if prev is not None:
                    check_frame(h, body, prev, None)
                if h.is_record and body is not None:
                    yield h.position, body["r"]
            prev = hashlib.sha256(buf[off : h.end]).digest() if wanted >= after else None
            off = h.end
