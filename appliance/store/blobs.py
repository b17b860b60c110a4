"""Content-addressed, chunk-sealed blobs (documents, page images, exports), each under a named key.

A blob is sealed with the data key it names in its header: a document's own key
(``doc-<id>``, see ``keys.document_key_name``) for everything made from the document,
``blobs`` for the rest. Destroying a document's key therefore crypto-shreds every page,
text layer and rendition of it and nothing else; ``shred_keys`` then removes the files.

The id is a keyed hash (HMAC-SHA256 under the MAC key of the blob's key name, over the
name and the content, hex[:32]), so two boxes or an observer of ids cannot confirm a
document by hashing a known file, and equal bytes in two documents are two blobs: content
is stored once per key. Each 64 KiB chunk is sealed on its own with the blob id, the key
name, chunk index and total size as associated data: a range read decrypts only the
chunks it needs, and chunks cannot be swapped, reordered or cut off without failing.

Formats: v1 (``PHSB\\x01``, sealed with ``blobs``, no name in the header) is still read,
so data directories from before per-document keys keep working; every new blob is v2.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from appliance.core.errors import PhsError, refuse

from .sealed import Undecodable
from .sealing import (
    NONCE_SIZE,
    TAG_SIZE,
    InvalidTag,
    atomic_write,
    fsync_dir,
    seal,
    shred_file,
    unseal,
)

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
SHARED_KEY = "blobs"  # non-document blobs (minutes), and every v1 blob
MAGIC_V1 = b"PHSB\x01"
MAGIC_V2 = b"PHSB\x02"
MAGIC = MAGIC_V2
_HEADER_V1 = struct.Struct(">5sQI")  # magic, plaintext size, chunk size
_HEADER_V2 = struct.Struct(">5sQIB")  # magic, plaintext size, chunk size, key name length; the name follows
_LONGEST_HEADER = _HEADER_V2.size + 255
_ID = re.compile(r"^[0-9a-f]{32}$")


class BlobKeys(Protocol):
    """What the store needs of a keyring (``appliance.store.keys.Keyring`` is one)."""

    def data_key(self, name: str) -> bytes:
        """The key of ``name``, created on first use."""
        ...

    def mac_key(self, name: str) -> bytes:
        """A keyed-hash key that dies with ``name``'s data key."""
        ...

    def existing_key(self, name: str) -> bytes | None:
        """None when erased; LookupError when it never existed."""
        ...


_PLACE = struct.Struct(">QQ")  # chunk index, plaintext size


def _aad_prefix(blob_id: str, name: str | None) -> bytes:
    """What every chunk's associated data begins with; ``_PLACE`` of the chunk follows."""
    if name is None:  # v1
        return b"phs-blob:" + blob_id.encode()
    return b"phs-blob2:" + blob_id.encode() + b":" + name.encode()


def _parse_header(head: bytes | memoryview) -> tuple[str | None, int, int, int]:
    """(key name, None for v1; plaintext size; chunk size; header length) of a blob file."""
    magic = bytes(head[:5])
    if magic == MAGIC_V2 and len(head) >= _HEADER_V2.size:
        _, size, chunk, name_len = _HEADER_V2.unpack_from(head)
        length = _HEADER_V2.size + name_len
        if len(head) < length:
            raise Undecodable(message_en="A stored blob is damaged.")
        name = bytes(head[_HEADER_V2.size : length]).decode("ascii", "replace")
    elif magic == MAGIC_V1 and len(head) >= _HEADER_V1.size:
        _, size, chunk = _HEADER_V1.unpack_from(head)
        name, length = None, _HEADER_V1.size
    elif magic[:4] == MAGIC_V1[:4]:
        raise Undecodable(message_en="A stored blob has an unknown format.")
    else:
        raise Undecodable(message_en="A stored blob is damaged.")
    if chunk != CHUNK:
        raise Undecodable(message_en="A stored blob has an unknown format.")
    return name, int(size), int(chunk), length


def _erased() -> PhsError:
    return refuse("erased")


class BlobStore:
    """Stores each distinct content once per key, sealed, and reads back whole blobs or byte ranges.

    Keys are looked up once and kept for the store's life: erasing happens only with the
    server stopped (``phs sitting erase`` takes the writer's lock), so none goes meanwhile."""

    def __init__(self, directory: Path, keys: BlobKeys) -> None:
        self._dir = Path(directory)
        self._keys = keys
        self._open: dict[str, bytes] = {}  # key name -> data key, for reading and writing
        self._macs: dict[str, bytes] = {}

    # -- keys ---------------------------------------------------------------------
    def _read_key(self, name: str) -> bytes:
        key = self._open.get(name)
        if key is None:
            try:
                found = self._keys.existing_key(name)
            except LookupError:
                raise Undecodable(message_en="A stored blob names a key this box never had.") from None
            if found is None:
                raise _erased()
            key = self._open[name] = found
        return key

    def _write_key(self, name: str) -> tuple[bytes, bytes]:
        if name not in self._macs:
            try:
                if self._keys.existing_key(name) is None:
                    raise _erased()
            except LookupError:
                pass  # a new document: its key is made now
            self._open[name] = self._keys.data_key(name)
            self._macs[name] = self._keys.mac_key(name)
        return self._open[name], self._macs[name]

    def blob_id(self, data: bytes, key_name: str = SHARED_KEY) -> str:
        """The id ``data`` gets under ``key_name``, without storing it (for dedup checks)."""
        _, mac = self._write_key(key_name)
        digest = hmac.new(mac, b"phs-blob2:" + key_name.encode() + b"\x00", hashlib.sha256)
        digest.update(data)
        return digest.hexdigest()[:32]

    # -- writing ------------------------------------------------------------------
    def _path(self, blob_id: str) -> Path:
        if not _ID.match(blob_id):
            raise refuse("not_found")
        return self._dir / blob_id[:2] / f"{blob_id}.blob"

    def put(self, data: bytes, *, key_name: str = SHARED_KEY) -> str:
        """Store ``data`` sealed with ``key_name`` once and return its id; storing it again is a no-op.

        Everything made from a document passes the document's key (``document_key_name``)."""
        key, _ = self._write_key(key_name)
        blob_id = self.blob_id(data, key_name)
        path = self._path(blob_id)
        if path.exists():
            return blob_id
        name = key_name.encode("ascii")
        parts = [_HEADER_V2.pack(MAGIC_V2, len(data), CHUNK, len(name)), name]
        prefix = _aad_prefix(blob_id, key_name)
        for index, start in enumerate(range(0, len(data), CHUNK)):
            parts.append(seal(key, data[start : start + CHUNK], prefix + _PLACE.pack(index, len(data))))
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fsync_dir(self._dir)
        atomic_write(path, b"".join(parts))
        log.debug("blob stored", extra={"event": "blob_put", "bytes": len(data)})
        return blob_id

    # -- reading ------------------------------------------------------------------
    def exists(self, blob_id: str) -> bool:
        """Whether a blob is stored (lets callers skip re-rendering)."""
        try:
            return self._path(blob_id).exists()
        except Exception:
            return False

    def _header(self, blob_id: str) -> tuple[Path, str | None, int, int, int]:
        path = self._path(blob_id)
        try:
            with path.open("rb") as fh:
                head = fh.read(_LONGEST_HEADER)
        except FileNotFoundError:
            raise refuse("not_found") from None
        return (path, *_parse_header(head))

    def key_name(self, blob_id: str) -> str:
        """The name of the key a blob is sealed with (``blobs`` for a v1 blob)."""
        return self._header(blob_id)[1] or SHARED_KEY

    def size(self, blob_id: str) -> int:
        """Plaintext size in bytes, without decrypting (for Content-Length and Range)."""
        return self._header(blob_id)[2]

    def get(self, blob_id: str) -> bytes:
        """The whole plaintext of a blob; PhsError ``not_found`` if it is not stored, ``erased``
        if its key was destroyed.

        One read of the file (a page served to a tablet is read whole, and often)."""
        path = self._path(blob_id)
        try:
            raw = memoryview(path.read_bytes())
        except FileNotFoundError:
            raise refuse("not_found") from None
        name, size, chunk, head = _parse_header(raw[:_LONGEST_HEADER])
        key = self._read_key(name or SHARED_KEY)
        sealed_chunk = NONCE_SIZE + chunk + TAG_SIZE
        count = -(-size // chunk)
        if len(raw) != head + (count * (NONCE_SIZE + TAG_SIZE)) + size:
            raise Undecodable(message_en="A stored blob is damaged.")
        out = bytearray()
        prefix = _aad_prefix(blob_id, name)
        for index in range(count):
            start = head + index * sealed_chunk
            plain_len = min(chunk, size - index * chunk)
            try:
                out += unseal(key, bytes(raw[start : start + NONCE_SIZE + plain_len + TAG_SIZE]), prefix + _PLACE.pack(index, size))
            except InvalidTag:
                raise Undecodable(message_en="A stored blob is damaged.") from None
        return bytes(out)

    def get_range(self, blob_id: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive, clamped to the size), decrypting only their chunks."""
        if start < 0 or end < start:
            raise refuse("invalid", message_en="The byte range is not valid.")
        path, name, size, chunk, head = self._header(blob_id)
        key = self._read_key(name or SHARED_KEY)
        end = min(end, size)
        if start >= end:
            return b""
        sealed_chunk = NONCE_SIZE + chunk + TAG_SIZE
        first, last = start // chunk, (end - 1) // chunk
        out = bytearray()
        prefix = _aad_prefix(blob_id, name)
        with path.open("rb") as fh:
            fh.seek(head + first * sealed_chunk)
            for index in range(first, last + 1):
                plain_len = min(chunk, size - index * chunk)
                sealed = fh.read(NONCE_SIZE + plain_len + TAG_SIZE)
                try:
                    out += unseal(key, sealed, prefix + _PLACE.pack(index, size))
                except InvalidTag:
                    raise Undecodable(message_en="A stored blob is damaged.") from None
        offset = first * chunk
        return bytes(out[start - offset : end - offset])

    # -- removing -----------------------------------------------------------------
    def delete(self, blob_id: str) -> bool:
        """Remove a blob; False when it was not there (deleting twice is harmless)."""
        path = self._path(blob_id)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            fsync_dir(path.parent)
            return True
        return False

    def shred_keys(self, names: Iterable[str]) -> int:
        """Overwrite and unlink every blob sealed with one of ``names`` (found by its header,
        so no journal is needed); returns how many. A v1 blob counts as sealed with ``blobs``."""
        wanted = set(names)
        shredded = 0
        for folder in sorted(p for p in self._dir.glob("??") if p.is_dir()) if self._dir.is_dir() else []:
            before = shredded
            for path in sorted(folder.glob("*.blob")):
                try:
                    with path.open("rb") as fh:
                        name = _parse_header(fh.read(_LONGEST_HEADER))[0] or SHARED_KEY
                except (OSError, Undecodable):
                    continue  # a damaged file names no key: `phs journal verify` is not about blobs either
                if name in wanted:
                    shred_file(path)
                    shredded += 1
            if shredded != before:
                fsync_dir(folder)
        return shredded

    def shred(self, blob_ids: Iterable[str]) -> int:
        """Overwrite and unlink the named blobs (v1 blobs of a document, which name no key of their own)."""
        shredded = 0
        for blob_id in blob_ids:
            try:
                path = self._path(blob_id)
                shred_file(path)
            except (FileNotFoundError, PhsError):  # not stored (any more), or not an id
                continue
            fsync_dir(path.parent)
            shredded += 1
        return shredded
