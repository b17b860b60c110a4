"""Content-addressed, chunk-sealed blobs (documents, page images, exports).

The id is a keyed hash (HMAC-SHA256 under the store's MAC key, hex[:32]), so two boxes or
an observer of ids cannot confirm a document by hashing a known file. Each 64 KiB chunk
is sealed on its own with the blob id, chunk index and total size as associated data:
a range read decrypts only the chunks it needs, and chunks cannot be swapped, reordered
or cut off without failing to open.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import struct
from pathlib import Path

from appliance.core.errors import refuse

from .sealed import Undecodable
from .sealing import NONCE_SIZE, TAG_SIZE, InvalidTag, atomic_write, fsync_dir, seal, unseal

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAGIC = b"PHSB\x01"
_HEADER = struct.Struct(">5sQI")  # magic, plaintext size, chunk size
_ID = re.compile(r"^[0-9a-f]{32}$")


def _aad(blob_id: str, index: int, size: int) -> bytes:
    return b"phs-blob:" + blob_id.encode() + struct.pack(">QQ", index, size)


def _parse_header(head: bytes | memoryview) -> tuple[int, int]:
    """(plaintext size, chunk size) from a blob file's header."""
    if len(head) != _HEADER.size:
        raise Undecodable(message_en="A stored blob is damaged.")
    magic, size, chunk = _HEADER.unpack(head)
    if magic != MAGIC or chunk != CHUNK:
        raise Undecodable(message_en="A stored blob has an unknown format.")
    return int(size), int(chunk)


class BlobStore:
    """Stores each distinct content once, sealed, and reads back whole blobs or byte ranges."""

    def __init__(self, directory: Path, key: bytes, mac_key: bytes) -> None:
        self._dir = Path(directory)
        self._key = key
        self._mac_key = mac_key

    def blob_id(self, data: bytes) -> str:
        """The id ``data`` would get, without storing it (for dedup checks)."""
        return hmac.new(self._mac_key, data, hashlib.sha256).hexdigest()[:32]

    def _path(self, blob_id: str) -> Path:
        if not _ID.match(blob_id):
            raise refuse("not_found")
        return self._dir / blob_id[:2] / f"{blob_id}.blob"

    def put(self, data: bytes) -> str:
        """Store ``data`` once and return its id; storing equal content again is a no-op."""
        blob_id = self.blob_id(data)
        path = self._path(blob_id)
        if path.exists():
            return blob_id
        parts = [_HEADER.pack(MAGIC, len(data), CHUNK)]
        for index, start in enumerate(range(0, len(data), CHUNK)):
            parts.append(
                seal(self._key, data[start : start + CHUNK], _aad(blob_id, index, len(data)))
            )
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fsync_dir(self._dir)
        atomic_write(path, b"".join(parts))
        log.debug("blob stored", extra={"event": "blob_put", "bytes": len(data)})
        return blob_id

    def exists(self, blob_id: str) -> bool:
        """Whether a blob is stored (lets callers skip re-rendering)."""
        try:
            return self._path(blob_id).exists()
        except Exception:
            return False

    def _header(self, blob_id: str) -> tuple[Path, int, int]:
        path = self._path(blob_id)
        try:
            with path.open("rb") as fh:
                head = fh.read(_HEADER.size)
        except FileNotFoundError:
            raise refuse("not_found") from None
        size, chunk = _parse_header(head)
        return path, size, chunk

    def size(self, blob_id: str) -> int:
        """Plaintext size in bytes, without decrypting (for Content-Length and Range)."""
        return self._header(blob_id)[1]

    def get(self, blob_id: str) -> bytes:
        """The whole plaintext of a blob; PhsError ``not_found`` if it is not stored.

        One read of the file (a page served to a tablet is read whole, and often)."""
        path = self._path(blob_id)
        try:
            raw = memoryview(path.read_bytes())
        except FileNotFoundError:
            raise refuse("not_found") from None
        size, chunk = _parse_header(raw[: _HEADER.size])
        sealed_chunk = NONCE_SIZE + chunk + TAG_SIZE
        count = -(-size // chunk)
        if len(raw) != _HEADER.size + (count * (NONCE_SIZE + TAG_SIZE)) + size:
            raise Undecodable(message_en="A stored blob is damaged.")
        out = bytearray()
        for index in range(count):
            start = _HEADER.size + index * sealed_chunk
            plain_len = min(chunk, size - index * chunk)
            try:
                out += unseal(self._key, bytes(raw[start : start + NONCE_SIZE + plain_len + TAG_SIZE]), _aad(blob_id, index, size))
            except InvalidTag:
                raise Undecodable(message_en="A stored blob is damaged.") from None
        return bytes(out)

    def get_range(self, blob_id: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive, clamped to the size), decrypting only their chunks."""
        if start < 0 or end < start:
            raise refuse("invalid", message_en="The byte range is not valid.")
        path, size, chunk = self._header(blob_id)
        end = min(end, size)
        if start >= end:
            return b""
        sealed_chunk = NONCE_SIZE + chunk + TAG_SIZE
        first, last = start // chunk, (end - 1) // chunk
        out = bytearray()
        with path.open("rb") as fh:
            fh.seek(_HEADER.size + first * sealed_chunk)
            for index in range(first, last + 1):
                plain_len = min(chunk, size - index * chunk)
                sealed = fh.read(NONCE_SIZE + plain_len + TAG_SIZE)
                try:
                    out += unseal(self._key, sealed, _aad(blob_id, index, size))
                except InvalidTag:
                    raise Undecodable(message_en="A stored blob is damaged.") from None
        offset = first * chunk
        return bytes(out[start - offset : end - offset])

    def delete(self, blob_id: str) -> bool:
        """Remove a blob; False when it was not there (deleting twice is harmless)."""
        path = self._path(blob_id)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)
            return True
        return False
