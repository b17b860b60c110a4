"""The secret ballot box (hòm phiếu kín): choices in random slots, with no voter and no time.

A file of fixed-size slots, each sealed on its own (AAD: slot index and slot size). A
cast choice lands in a uniformly random free slot (``secrets.randbelow``), so the slot
order — the only order the file has — is independent of the order of voting. Free slots
are sealed too, so without the key every slot looks alike. When full, the box doubles
and every stored choice is re-placed at a fresh uniformly random slot of the larger box
and re-sealed, so growth leaves no "early votes live in the first half" trace.

Atomic with the journal (docs/SECRET_BALLOTS.md): a choice is first written *pending*,
carrying a random commit marker that the voter's journal record names too; once that
record is durable the slot is re-sealed without the marker, so no stored field links a
slot to a journal record. On start-up ``recover`` keeps pending choices whose marker the
journal holds and frees the others (their record never became durable).

Threat model: an insider with the key and the disk after the sitting. Someone reading the
server's memory while a poll is open is out of scope. Callers must not log choices.
"""

from __future__ import annotations

import json
import os
import secrets
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appliance.core.errors import refuse

from .sealed import Undecodable
from .sealing import NONCE_SIZE, TAG_SIZE, InvalidTag, atomic_write, seal, unseal

Choice = str | dict[str, str]
MAGIC = b"PHSV\x01"
_HEADER = struct.Struct(">5sIQ")  # magic, payload size, slot count
_LEN = struct.Struct(">H")
DEFAULT_SLOTS = 1024
DEFAULT_PAYLOAD = 1024
# The largest slot: a ballot that names every candidate of a long slate (a confidence
# assessment of 40 officials is about 2 KiB) fits many times over; opening a poll whose
# full ballot would not fit is refused (appliance/meeting/poll_commands.py).
MAX_PAYLOAD = 64 * 1024


def _fitting(size: int) -> int:
    """The slot size for a ballot of ``size`` bytes: the next power of two, at least the default."""
    payload = DEFAULT_PAYLOAD
    while payload < size:
        payload *= 2
    return min(payload, MAX_PAYLOAD)


def _aad(index: int, payload: int) -> bytes:
    return b"phs-ballot:" + struct.pack(">QI", index, payload)


class BallotBox:
    """Holds the secret choices of a sitting's polls; only counts should ever leave it."""

    def __init__(self, path: Path, key: bytes, payload: int, slots: list[bytes | None]) -> None:
        self._path = path
        self._key = key
        self._payload = payload
        self._slots = slots  # canonical JSON of {"c": choice, "poll": id}, or None when free
        self._free = [i for i, s in enumerate(slots) if s is None]
        self._pending = self._markers()
        self._fd: int | None = os.open(path, os.O_RDWR)

    @classmethod
    def open(
        cls, path: Path, key: bytes, *, slots: int = DEFAULT_SLOTS, payload: int = DEFAULT_PAYLOAD
    ) -> BallotBox:
        """Open the box, creating it preallocated with ``slots`` sealed empty slots if absent."""
        path = Path(path)
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            atomic_write(path, cls._encode_file(key, payload, [None] * slots))
        data = path.read_bytes()
        if len(data) < _HEADER.size:
            raise Undecodable(message_en="The ballot box is damaged.")
        magic, payload, count = _HEADER.unpack_from(data)
        slot_size = NONCE_SIZE + _LEN.size + payload + TAG_SIZE
        if magic != MAGIC or len(data) != _HEADER.size + count * slot_size:
            raise Undecodable(message_en="The ballot box is damaged.")
        contents: list[bytes | None] = []
        for index in range(count):
            at = _HEADER.size + index * slot_size
            try:
                plain = unseal(key, data[at : at + slot_size], _aad(index, payload))
            except InvalidTag:
                raise Undecodable(message_en="The ballot box is damaged.") from None
            (length,) = _LEN.unpack_from(plain)
            contents.append(plain[_LEN.size : _LEN.size + length] if length else None)
        return cls(path, key, payload, contents)

    @staticmethod
    def _seal_slot(key: bytes, payload: int, index: int, content: bytes | None) -> bytes:
        body = content or b""
        plain = _LEN.pack(len(body)) + body + bytes(payload - len(body))
        return seal(key, plain, _aad(index, payload))

    @classmethod
    def _encode_file(cls, key: bytes, payload: int, slots: list[bytes | None]) -> bytes:
        parts = [_HEADER.pack(MAGIC, payload, len(slots))]
        parts += [cls._seal_slot(key, payload, i, s) for i, s in enumerate(slots)]
        return b"".join(parts)

    @property
    def capacity(self) -> int:
        """Number of slots in the file (grows by doubling)."""
        return len(self._slots)

    def cast(self, poll_id: str, choice: Choice) -> None:
        """Drop one secret choice into a random free slot and fsync it."""
        self.cast_batch([(poll_id, choice)])

    def cast_batch(self, ballots: list[tuple[str, Choice]]) -> None:
        """Drop several committed choices, one fsync for all (tools and tests; the server stages)."""
        self.write([(poll_id, choice, None) for poll_id, choice in ballots])

    def write(
        self,
        casts: Sequence[tuple[str, Any, str | None]],
        commits: Sequence[str] = (),
        discards: Sequence[str] = (),
    ) -> None:
        """One fsync for a batch: new choices (pending when they carry a marker), commits, discards."""
        if self._fd is None:
            raise refuse("internal", message_en="The ballot box is closed.")
        encoded = [(self._encode(poll_id, choice, marker), marker) for poll_id, choice, marker in casts]
        longest = max((len(content) for content, _ in encoded), default=0)
        if longest > self._payload:
            self._rebuild(len(self._slots), _fitting(longest))
        try:
            for content, marker in encoded:
                if not self._free:
                    self._grow()
                pick = secrets.randbelow(len(self._free))
                self._free[pick], self._free[-1] = self._free[-1], self._free[pick]
                index = self._free.pop()
                self._put(index, content)
                if marker is not None:
                    self._pending[marker] = index
            for marker in commits:
                index = self._pending.pop(marker)
                body = json.loads(self._slots[index] or b"{}")
                self._put(index, self._encode(body["poll"], body["c"], None))  # a fresh seal, no marker
            for marker in discards:
                index = self._pending.pop(marker)
                self._put(index, None)
                self._free.append(index)
            os.fsync(self._fd)
        except OSError as exc:
            # Memory and disk may now disagree: stop taking ballots rather than guess.
            self.close()
            raise refuse("internal", message_en="The ballot could not be saved to disk.") from exc

    def _put(self, index: int, content: bytes | None) -> None:
        assert self._fd is not None
        slot_size = NONCE_SIZE + _LEN.size + self._payload + TAG_SIZE
        self._slots[index] = content
        sealed = self._seal_slot(self._key, self._payload, index, content)
        os.pwrite(self._fd, sealed, _HEADER.size + index * slot_size)

    def _markers(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for index, content in enumerate(self._slots):
            if content is not None:
                marker = json.loads(content).get("m")
                if marker is not None:
                    out[str(marker)] = index
        return out

    def pending_markers(self) -> set[str]:
        """Markers of choices whose journal record was not yet known durable (only after a crash)."""
        return set(self._pending)

    def recover(self, committed: set[str]) -> None:
        """Keep the pending choices the journal committed, free the rest; clears every marker."""
        pending = self.pending_markers()
        if pending:
            self.write([], sorted(pending & committed), sorted(pending - committed))

    def _encode(self, poll_id: str, choice: Choice, marker: str | None = None) -> bytes:
        if not isinstance(choice, str | dict):
            raise refuse("invalid")
        fields: dict[str, Any] = {"c": choice, "poll": poll_id}
        if marker is not None:
            fields["m"] = marker
        body = json.dumps(
            fields,
            ensure_ascii=False,
            sort_keys=True,
            separators=(",", ":"),
        )
        content = body.encode()
        if len(content) > MAX_PAYLOAD:
            raise refuse(
                "payload_too_large",
                "Phiếu bầu quá lớn để cất vào hòm phiếu kín.",
                "A ballot is larger than the secret ballot box's largest slot.",
            )
        return content

    def _grow(self) -> None:
        self._rebuild(2 * len(self._slots), self._payload)

    def _rebuild(self, new_count: int, payload: int) -> None:
        """Re-place every stored choice in a box of ``new_count`` slots of ``payload`` bytes.

        A uniformly random injection of the stored choices into the new box, as if it had
        been that shape from the first vote: neither growth (more slots) nor a longer ballot
        (bigger slots, every slot alike) leaves a trace of when anyone voted."""
        filled = [s for s in self._slots if s is not None]
        places = secrets.SystemRandom().sample(range(new_count), len(filled))
        slots: list[bytes | None] = [None] * new_count
        for content, place in zip(filled, places, strict=True):
            slots[place] = content
        atomic_write(self._path, self._encode_file(self._key, payload, slots))
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self._path, os.O_RDWR)
        self._payload = payload
        self._slots = slots
        self._free = [i for i, s in enumerate(slots) if s is None]
        self._pending = self._markers()

    def choices(self, poll_id: str) -> list[Any]:
        """The poll's committed choices in slot order — an order that says nothing about who voted when."""
        out = []
        for content in self._slots:
            if content is not None:
                body = json.loads(content)
                if body["poll"] == poll_id and "m" not in body:
                    out.append(body["c"])
        return out

    def count(self, poll_id: str) -> int:
        """Number of secret ballots in the box for ``poll_id``."""
        return len(self.choices(poll_id))

    def close(self) -> None:
        """Release the file."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
