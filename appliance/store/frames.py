"""The journal's on-disk format: sealed, hash-chained frames in numbered segment files.

A frame is ``len:u32 | position:u64 | kind:u8 | nonce | ciphertext+tag``. The header
(position and kind) is the AES-GCM associated data, so a frame cannot be moved to
another position without failing to open. The plaintext is JSON holding the position
and the SHA-256 of the previous whole frame (genesis: 64 zeros). A record frame carries
``"r"``; a checkpoint frame carries ``"cp"``: an Ed25519 signature over the position it
covers and the previous frame's hash, which commits to the whole history before it.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
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
KIND_RECORD = 0
KIND_CHECKPOINT = 1
LEN = struct.Struct(">I")
HEADER = struct.Struct(">QB")
MIN_BODY = HEADER.size + NONCE_SIZE + TAG_SIZE
MAX_BODY = MAX_RECORD + 4096 + MIN_BODY
CHECKPOINT_CONTEXT = b"phs-journal-checkpoint\x00"


class BadFrame(Exception):
    """A frame that cannot be read or does not belong where it is."""


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


def read_header(buf: bytes, off: int) -> tuple[int, int, int]:
    """(end offset, position, kind) of the frame at ``off``; BadFrame if it cannot be whole."""
    if len(buf) - off < LEN.size + MIN_BODY:
        raise BadFrame("truncated frame")
    (body_len,) = LEN.unpack_from(buf, off)
    if body_len < MIN_BODY or body_len > MAX_BODY:
        raise BadFrame("bad length")
    end = off + LEN.size + body_len
    if end > len(buf):
        raise BadFrame("truncated frame")
    position, kind = HEADER.unpack_from(buf, off + LEN.size)
    if kind not in (KIND_RECORD, KIND_CHECKPOINT):
        raise BadFrame("unknown frame kind")
    return end, position, kind


def open_frame(key: bytes, buf: bytes, off: int, end: int) -> dict[str, Any]:
    """Decrypt one frame and parse its JSON; BadFrame on a bad seal."""
    head_at = off + LEN.size
    header = buf[head_at : head_at + HEADER.size]
    try:
        plain = unseal(key, buf[head_at + HEADER.size : end], header)
    except InvalidTag:
        raise BadFrame("seal does not verify") from None
    body = json.loads(plain)
    if not isinstance(body, dict):
        raise BadFrame("bad plaintext")
    return body


def check_frame(
    body: dict[str, Any], position: int, kind: int, prev: bytes, public_key: bytes | None
) -> None:
    """Check the opened frame names its position and the previous hash, and a checkpoint's signature."""
    if body.get("p") != position:
        raise BadFrame("position inside the seal differs from the header")
    if body.get("prev") != prev.hex():
        raise BadFrame("hash chain broken")
    if kind == KIND_CHECKPOINT:
        cp = body.get("cp")
        if not isinstance(cp, dict):
            raise BadFrame("checkpoint without signature")
        pub = bytes.fromhex(str(cp.get("pub", "")))
        if public_key is not None and pub != public_key:
            raise BadFrame("checkpoint signed by another identity")
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(
                bytes.fromhex(str(cp.get("sig", ""))), checkpoint_message(position, prev)
            )
        except (InvalidSignature, ValueError):
            raise BadFrame("checkpoint signature does not verify") from None
    elif "r" not in body:
        raise BadFrame("record without content")


def authentic_frame_at(key: bytes, buf: bytes, off: int) -> bool:
    """True when a genuine sealed frame starts at ``off`` (used to tell a torn tail from a break)."""
    try:
        end, _, _ = read_header(buf, off)
        open_frame(key, buf, off, end)
    except (BadFrame, ValueError):
        return False
    return True


def any_authentic_after(key: bytes, buf: bytes, start: int, later: list[Path]) -> bool:
    """Whether any genuine frame exists from ``start`` on or in a later segment."""
    for off in range(start, len(buf)):
        if authentic_frame_at(key, buf, off):
            return True
    for path in later:
        data = path.read_bytes()
        if any(authentic_frame_at(key, data, off) for off in range(len(data))):
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


def scan(
    directory: Path, key: bytes, *, verify_from: int = 0, public_key: bytes | None = None
) -> ScanResult:
    """Walk every frame; decrypt and check those after ``verify_from`` (earlier ones: headers only)."""
    result = ScanResult(segments=list_segments(directory))
    expected, prev = 1, GENESIS
    for index, path in enumerate(result.segments):
        buf = path.read_bytes()
        off, prev_span = 0, (0, 0)
        pending_hash = False
        while off < len(buf):
            try:
                end, position, kind = read_header(buf, off)
                wanted = expected if kind == KIND_RECORD else expected - 1
                if position != wanted:
                    raise BadFrame(f"position {position} where {wanted} expected")
                if position > verify_from:
                    if pending_hash:  # hash lazily: a covered prefix is only walked, not hashed
                        prev = hashlib.sha256(buf[prev_span[0] : prev_span[1]]).digest()
                        pending_hash = False
                    check_frame(open_frame(key, buf, off, end), position, kind, prev, public_key)
                    result.verified += kind == KIND_RECORD
                result.checkpoints += kind == KIND_CHECKPOINT
            except (BadFrame, ValueError) as exc:
                later = result.segments[index + 1 :]
                tail = not any_authentic_after(key, buf, off, later)
                result.problem = Problem(expected, path, off, str(exc), tail)
                break
            if kind == KIND_RECORD:
                result.head, expected = position, position + 1
            prev_span, pending_hash = (off, end), True
            off = end
        if pending_hash:
            prev = hashlib.sha256(buf[prev_span[0] : prev_span[1]]).digest()
        result.end_offset = off
        if result.problem is not None:
            break
    result.last_hash = prev
    return result


def iter_records(
    key: bytes, segments: list[tuple[Path, int]], after: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (position, record) for records after ``after``, reading each segment up to its size."""
    prev: bytes | None = None
    for path, size in segments:
        with path.open("rb") as fh:
            buf = fh.read(size)
        off = 0
        while off < len(buf):
            end, position, kind = read_header(buf, off)
            wanted = position if kind == KIND_RECORD else position + 1
            if wanted > after:
                body = open_frame(key, buf, off, end)
                if prev is not None:
                    check_frame(body, position, kind, prev, None)
                if kind == KIND_RECORD:
                    yield position, body["r"]
            prev = hashlib.sha256(buf[off:end]).digest() if wanted >= after else None
            off = end
