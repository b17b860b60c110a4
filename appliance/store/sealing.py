"""Sealing and durable-file helpers shared by every store module.

AES-GCM with a random 12-byte nonce; the associated data binds a ciphertext to the
place it belongs (a journal position, a blob chunk, a key name), so moving sealed bytes
elsewhere makes them fail to open instead of decrypting to the wrong thing.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_SIZE = 12
TAG_SIZE = 16
KEY_SIZE = 32

__all__ = [
    "InvalidTag",
    "KEY_SIZE",
    "NONCE_SIZE",
    "TAG_SIZE",
    "atomic_write",
    "fsync_dir",
    "seal",
    "shred_file",
    "unseal",
]


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate; returns nonce + ciphertext + tag so one blob travels alone."""
    nonce = secrets.token_bytes(NONCE_SIZE)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def unseal(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Open a sealed blob; raises InvalidTag on any tampering, wrong key or wrong place."""
    if len(sealed) < NONCE_SIZE + TAG_SIZE:
        raise InvalidTag()
    return AESGCM(key).decrypt(sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], aad)


def fsync_dir(directory: Path) -> None:
    """Make a create, rename or unlink inside ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file whole."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    os.close(fd)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def shred_file(path: Path) -> None:
    """Overwrite ``path`` with random bytes, then unlink it (the caller fsyncs the directory).

    Best effort on flash, whose translation layer may keep old pages: what is shredded is
    sealed anyway, and useless once its key is destroyed too."""
    left = path.stat().st_size
    fd = os.open(path, os.O_WRONLY)
    try:
        while left > 0:  # in pieces: an original may be hundreds of MiB
            left -= os.write(fd, secrets.token_bytes(min(left, 1 << 20)))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.unlink(path)
