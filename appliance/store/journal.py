"""The journal: the durable record of a sitting, written with group commit.

``submit`` assigns the next position at once and queues the record; one writer task takes
everything queued while the previous write+fsync ran, seals it into frames, and writes
the batch with a single ``write`` and ``os.fsync`` in a worker thread (so the event loop
keeps accepting submits and the next batch forms). Futures resolve only after the fsync.
A failed write or fsync fails the journal loudly: nothing is acknowledged afterwards.

Each record is sealed with the data key its caller names (``session``, or
``sitting-<id>`` while a sitting is open), looked up through the ``keys`` callable; the
frame header carries that name and the chain, so erasing one key leaves the rest readable.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.core.errors import PhsError, refuse

from . import frames
from .frames import (
    KIND_CHECKPOINT,
    KIND_RECORD,
    LEN,
    SESSION_KEY,
    KeyLookup,
    checkpoint_message,
    header_bytes,
    segment_name,
)
from .sealing import fsync_dir, seal

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT_EVERY = 1000


@dataclass
class _Item:
    kind: int
    position: int  # a record's position; for a checkpoint, the position it covers
    payload: bytes
    future: asyncio.Future[None] | None
    key_id: str = SESSION_KEY
    key: bytes = b""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Journal:
    """Append-only, sealed, hash-chained log with group commit; one per sitting."""

    def __init__(
        self,
        directory: Path,
        keys: KeyLookup,
        found: frames.ScanResult,
        identity: Ed25519PrivateKey | None,
        checkpoint_every: int,
    ) -> None:
        self._dir = directory
        self._keys = keys
        self._key = _required(keys, SESSION_KEY)
        self._identity = identity
        self._pub_hex = (
            identity.public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            .hex()
            if identity
            else ""
        )
        self._every = checkpoint_every
        self._head = found.head
        self._assigned = found.head
        self._last_hash = found.last_hash
        self._segments: list[tuple[Path, int]] = [(p, p.stat().st_size) for p in found.segments]
        self._fd: int | None = None
        if self._segments:
            self._fd = os.open(self._segments[-1][0], os.O_WRONLY | os.O_APPEND)
        self._pending: list[_Item] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._failure: BaseException | None = None
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        directory: Path,
        key: bytes,
        *,
        keys: Callable[[str], bytes | None] | None = None,
        identity: Ed25519PrivateKey | None = None,
        checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
        verify_from: int = 0,
    ) -> Journal:
        """Open for appending, cutting a torn tail; a break before the tail refuses with ``internal``.

        ``key`` is the session key; ``keys`` finds any other data key by name (None: erased,
        so those frames are chain-checked but not opened, and replay skips them;
        LookupError: unknown, so such a frame is damage).

        ``verify_from``: records up to this position are covered by a snapshot, so only their
        frame headers are walked (lengths, positions); records after it are decrypted and
        chain-checked. ``verify_journal`` always checks everything.
        """
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lookup = _with_session(key, keys)
        found = await asyncio.to_thread(frames.scan, directory, lookup, verify_from=verify_from)
        if found.problem is not None:
            await asyncio.to_thread(cls._recover, directory, found)
        journal = cls(directory, lookup, found, identity, checkpoint_every)
        journal._task = asyncio.create_task(journal._writer(), name="journal-writer")
        return journal

    @staticmethod
    def _recover(directory: Path, found: frames.ScanResult) -> None:
        problem = found.problem
        assert problem is not None
        if not problem.tail:
            log.error(
                "journal broken before its tail",
                extra={
                    "event": "journal_broken",
                    "position": problem.position,
                    "reason": problem.reason,
                },
            )
            raise refuse(
                "internal",
                message=f"Nhật ký phiên họp bị hỏng tại vị trí {problem.position}; cần kiểm tra.",
                message_en=f"The sitting journal is damaged at position {problem.position}; it needs checking.",
                position=problem.position,
                reason=problem.reason,
            )
        index = found.segments.index(problem.segment)
        dropped = problem.segment.stat().st_size - problem.offset
        with problem.segment.open("r+b") as fh:
            fh.truncate(problem.offset)
            os.fsync(fh.fileno())
        for later in found.segments[index + 1 :]:
            dropped += later.stat().st_size
            later.unlink()
        del found.segments[index + 1 :]
        fsync_dir(directory)
        log.warning(
            "torn journal tail cut",
            extra={
                "event": "journal_tail_cut",
                "position": problem.position,
                "dropped_bytes": dropped,
            },
        )

    @property
    def head(self) -> int:
        """Position of the last record that is durable on disk (0 when empty)."""
        return self._head

    def submit(
        self, record: dict[str, Any], *, key_name: str = SESSION_KEY
    ) -> tuple[int, asyncio.Future[None]]:
        """Queue ``record`` sealed with ``key_name``'s data key; the future resolves once it is fsynced."""
        self._check_open()
        key = _required(self._keys, key_name)
        try:
            payload = json.dumps(
                record, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode()
        except (TypeError, ValueError):
            raise refuse("invalid", message_en="A journal record must be plain JSON.") from None
        if len(payload) > frames.MAX_RECORD:
            raise refuse("payload_too_large")
        self._assigned += 1
        position = self._assigned
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(KIND_RECORD, position, payload, future, key_name, key))
        if self._identity is not None and self._every > 0 and position % self._every == 0:
            self._pending.append(_Item(KIND_CHECKPOINT, position, b"", None))
        self._wake.set()
        return position, future

    async def append(self, record: dict[str, Any], *, key_name: str = SESSION_KEY) -> int:
        """Append and wait until durable; the position is safe to acknowledge afterwards."""
        position, future = self.submit(record, key_name=key_name)
        await future
        return position

    async def checkpoint(self) -> int:
        """Write a signed checkpoint covering everything submitted so far; returns that position."""
        self._check_open()
        if self._identity is None:
            raise refuse(
                "not_supported", message_en="This journal was opened without a signing identity."
            )
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        at = self._assigned
        self._pending.append(_Item(KIND_CHECKPOINT, at, b"", future))
        self._wake.set()
        await future
        return at

    def records(self, after: int = 0) -> Iterator[tuple[int, dict[str, Any]]]:
        """Replay durable records after ``after``, decrypted and chain-checked, in order.

        Records whose data key was erased (a shredded sitting) are skipped by design.
        """
        return frames.iter_records(self._keys, list(self._segments), after)

    async def close(self) -> None:
        """Flush what was submitted, stop the writer and release the file."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            await self._task
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _check_open(self) -> None:
        if self._failure is not None:
            raise refuse(
                "internal",
                message="Không ghi được nhật ký phiên họp.",
                message_en="The journal can no longer be written.",
            ) from self._failure
        if self._closing:
            raise refuse("internal", message_en="The journal is closed.")

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            batch, self._pending = self._pending, []
            try:
                head = await asyncio.to_thread(self._write_batch, batch)
            except BaseException as exc:
                self._fail(exc, batch)
                return
            self._head = max(self._head, head)
            for item in batch:
                if item.future is not None and not item.future.done():
                    item.future.set_result(None)

    def _fail(self, exc: BaseException, batch: list[_Item]) -> None:
        self._failure = exc
        log.error(
            "journal write failed; refusing further records",
            extra={
                "event": "journal_failed",
                "error": type(exc).__name__,
                "position": batch[0].position,
            },
        )
        error = PhsError(
            "internal",
            message="Không ghi được nhật ký phiên họp.",
            message_en="The record could not be saved to disk.",
        )
        error.__cause__ = exc
        for item in [*batch, *self._pending]:
            if item.future is not None and not item.future.done():
                item.future.set_exception(error)
        self._pending = []

    def _seal_item(self, item: _Item, prev: bytes) -> bytes:
        if item.kind == KIND_RECORD:
            plain, key = item.payload, item.key
        else:
            assert self._identity is not None
            sig = self._identity.sign(checkpoint_message(item.position, prev)).hex()
            plain = json.dumps({"sig": sig, "pub": self._pub_hex}, separators=(",", ":")).encode()
            key = self._key
        header = header_bytes(item.position, item.kind, prev, item.key_id)
        body = header + seal(key, plain, header)
        return LEN.pack(len(body)) + body

    def _write_batch(self, batch: list[_Item]) -> int:
        """Seal, write and fsync one batch (worker thread); returns the last record position."""
        prev, chunks, head = self._last_hash, [], 0
        for item in batch:
            frame = self._seal_item(item, prev)
            prev = hashlib.sha256(frame).digest()
            chunks.append(frame)
            if item.kind == KIND_RECORD:
                head = item.position
        data = b"".join(chunks)
        used = self._segments[-1][1] if self._segments else 0
        if self._fd is None or (used > 0 and used + len(data) > frames.SEGMENT_LIMIT):
            first = batch[0].position + (batch[0].kind == KIND_CHECKPOINT)
            self._roll(first)
        assert self._fd is not None
        _write_all(self._fd, data)
        os.fsync(self._fd)
        path, size = self._segments[-1]
        self._segments[-1] = (path, size + len(data))
        self._last_hash = prev
        return head

    def _roll(self, first: int) -> None:
        path = self._dir / segment_name(first)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        fsync_dir(self._dir)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = fd
        self._segments.append((path, 0))
        log.info("journal segment started", extra={"event": "journal_segment", "first": first})


def _with_session(key: bytes, keys: Callable[[str], bytes | None] | None) -> KeyLookup:
    """One lookup that always answers the session key with ``key``."""
    if keys is None:
        return frames.single_key(key)
    other = keys
    return lambda name: key if name == SESSION_KEY else other(name)


def _required(keys: KeyLookup, name: str) -> bytes:
    """A key to seal with; an erased or unknown one refuses (never re-created by accident)."""
    try:
        key = keys(name)
    except LookupError:
        key = None
    if key is None:
        raise refuse(
            "conflict",
            message="Khóa dữ liệu của phiên họp này đã bị hủy; không thể ghi thêm.",
            message_en=f"The data key {name!r} has been erased; nothing more can be sealed with it.",
        )
    return key
