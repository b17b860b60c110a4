"""Whole-file sealed JSON, and a TinyDB storage built on it.

A sealed file is ``b"PHSS" | format version (1 byte) | nonce | ciphertext+tag``; the
magic and version are the associated data, so a file from another format version fails
cleanly instead of being misread. Writes are atomic (tmp, fsync, rename, dir fsync).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tinydb import Storage

from appliance.core.errors import PhsError, refuse

from .sealing import InvalidTag, atomic_write, seal, unseal

MAGIC = b"PHSS"
FORMAT_VERSION = 1
_HEADER = MAGIC + bytes([FORMAT_VERSION])


class Undecodable(PhsError):
    """A sealed file that cannot be opened (damaged, wrong key, unknown format)."""

    code = "internal"


def _aad(header: bytes, context: bytes) -> bytes:
    return header + b"\x00" + context


def write_sealed(path: Path, key: bytes, value: Any, context: bytes = b"") -> None:
    """Seal ``value`` as JSON and replace ``path`` atomically; ``context`` binds it to its use."""
    try:
        plain = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()
    except (TypeError, ValueError):
        raise refuse("invalid", message_en="Only plain JSON can be stored.") from None
    atomic_write(path, _HEADER + seal(key, plain, _aad(_HEADER, context)))


def read_sealed(path: Path, key: bytes, context: bytes = b"") -> Any:
    """Open a sealed JSON file; FileNotFoundError if absent, Undecodable if it cannot be trusted."""
    data = path.read_bytes()
    header = data[: len(_HEADER)]
    if header != _HEADER:
        raise Undecodable(message_en="Unknown sealed file format.")
    try:
        plain = unseal(key, data[len(_HEADER) :], _aad(header, context))
        return json.loads(plain)
    except (InvalidTag, ValueError):
        raise Undecodable(message_en="A sealed file does not open with this key.") from None


class SealedStorage(Storage):
    """TinyDB storage that keeps the whole database sealed on disk and writes it atomically."""

    def __init__(self, path: str | Path, key: bytes, context: bytes = b"tinydb") -> None:
        self._path = Path(path)
        self._key = key
        self._context = context

    def read(self) -> dict[str, dict[str, Any]] | None:
        """Whole database, or None for a new file (TinyDB then starts empty)."""
        try:
            value = read_sealed(self._path, self._key, self._context)
        except FileNotFoundError:
            return None
        if not isinstance(value, dict):
            raise Undecodable(message_en="A sealed database is not a mapping.")
        return value

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Persist the whole database so a crash leaves the old or the new file, never half."""
        write_sealed(self._path, self._key, data, self._context)

    def close(self) -> None:
        """Nothing is held open between writes."""
