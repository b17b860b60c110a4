"""Keys: the key-encryption key (KEK), per-sitting data keys, and the box's signing identity.

The KEK lives in a keys directory outside the data directory (a key stick in production,
a file for development). Every data key is random and stored only wrapped by the KEK, so
destroying one wrapped file erases everything sealed with that key (crypto-shredding).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.core.errors import PhsError, refuse

from .sealing import KEY_SIZE, InvalidTag, atomic_write, fsync_dir, seal, unseal

log = logging.getLogger(__name__)

KEK_FILE = "kek.key"
WRAPPED_SUFFIX = ".wrapped"
PENDING_SUFFIX = ".wrapped.new"
IDENTITY = "identity"
_MAGIC = b"PHSK1"
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


def _locked(vi: str, en: str) -> PhsError:
    return refuse("locked", message=vi, message_en=en)


def _aad(name: str) -> bytes:
    return b"phs-key:" + name.encode()


def _wrap(kek: bytes, name: str, key: bytes) -> bytes:
    return _MAGIC + seal(kek, key, _aad(name))


def _unwrap(kek: bytes, name: str, blob: bytes) -> bytes:
    if not blob.startswith(_MAGIC):
        raise InvalidTag()
    return unseal(kek, blob[len(_MAGIC) :], _aad(name))


def _check_name(name: str) -> None:
    if not _NAME.match(name) or name == IDENTITY:
        raise refuse("invalid", message_en="A key name must be a plain id.")


def _read_kek(path: Path) -> bytes:
    try:
        kek = path.read_bytes()
    except FileNotFoundError:
        raise _locked(
            "Hộp đang khóa: không tìm thấy khóa mã hóa. Hãy cắm khóa USB của hộp.",
            "The box is locked: no key-encryption key found. Insert the box's key stick.",
        ) from None
    if len(kek) != KEY_SIZE:
        raise _locked(
            "Khóa mã hóa bị hỏng. Hãy dùng đúng khóa USB của hộp.",
            "The key-encryption key is damaged. Use the box's own key stick.",
        )
    if path.stat().st_mode & 0o077:
        log.warning("kek file readable by others", extra={"mode": oct(path.stat().st_mode & 0o777)})
    return kek


class Keyring:
    """Holds the KEK in memory and hands out data keys, MAC keys and the signing identity."""

    def __init__(self, kek: bytes, keys_dir: Path, data_dir: Path) -> None:
        self._kek = kek
        self._keys_dir = keys_dir
        self._wrapped_dir = data_dir / "keys"
        self._cache: dict[str, bytes] = {}

    @classmethod
    def open(cls, keys_dir: Path, data_dir: Path, *, create: bool) -> Keyring:
        """Unlock the box; without a KEK and without ``create`` refuse with ``locked``, touching nothing."""
        keys_dir, data_dir = Path(keys_dir), Path(data_dir)
        if keys_dir.resolve().is_relative_to(data_dir.resolve()):
            raise refuse(
                "invalid",
                message="Thư mục khóa phải nằm ngoài thư mục dữ liệu.",
                message_en="The keys directory must be outside the data directory.",
            )
        kek_path = keys_dir / KEK_FILE
        if not kek_path.exists() and create:
            cls._create_kek(keys_dir)
        kek = _read_kek(kek_path)
        ring = cls(kek, keys_dir, data_dir)
        ring._wrapped_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        ring._finish_rotation()
        return ring

    @staticmethod
    def _create_kek(keys_dir: Path) -> None:
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(keys_dir, 0o700)
        path = keys_dir / KEK_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(path, 0o600)
        fsync_dir(keys_dir)
        log.warning(
            "created a development key file; a production box keeps its KEK on a key stick",
            extra={"event": "kek_created"},
        )

    def _path(self, name: str, suffix: str = WRAPPED_SUFFIX) -> Path:
        return self._wrapped_dir / f"{name}{suffix}"

    def _load_or_create(self, name: str) -> bytes:
        if name in self._cache:
            return self._cache[name]
        path = self._path(name)
        try:
            key = _unwrap(self._kek, name, path.read_bytes())
        except FileNotFoundError:
            key = secrets.token_bytes(KEY_SIZE)
            atomic_write(path, _wrap(self._kek, name, key))
        except InvalidTag:
            raise _locked(
                "Khóa USB không khớp với dữ liệu của hộp.",
                "The key stick does not match this box's data.",
            ) from None
        self._cache[name] = key
        return key

    def data_key(self, name: str) -> bytes:
        """The data key of ``name`` (a sitting id, ...), created on first use so callers never pre-register."""
        _check_name(name)
        return self._load_or_create(name)

    def mac_key(self, name: str) -> bytes:
        """A keyed-hash key derived from ``name``'s data key: it survives KEK rotation and dies with erase."""
        hkdf = HKDF(
            algorithm=hashes.SHA256(), length=KEY_SIZE, salt=None, info=b"phs-mac:" + name.encode()
        )
        return hkdf.derive(self.data_key(name))

    def identity(self) -> Ed25519PrivateKey:
        """The box's Ed25519 signing key (journal checkpoints), stored sealed by the KEK."""
        seed = self._load_or_create(IDENTITY)
        return Ed25519PrivateKey.from_private_bytes(seed)

    def identity_public(self) -> bytes:
        """The raw public half, for verifiers that hold no secret."""
        return (
            self.identity()
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def names(self) -> list[str]:
        """Names of the data keys on disk, for rotation and audits."""
        out = [p.name[: -len(WRAPPED_SUFFIX)] for p in self._wrapped_dir.glob("*" + WRAPPED_SUFFIX)]
        return sorted(n for n in out if n != IDENTITY)

    def erase(self, name: str) -> None:
        """Crypto-shred ``name``: overwrite and unlink its wrapped key so its data can never be opened."""
        _check_name(name)
        path = self._path(name)
        self._cache.pop(name, None)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise refuse("not_found") from None
        # Overwriting is best effort on flash (the FTL may keep old pages); the KEK that
        # wrapped any surviving copy should be rotated after shredding on real hardware.
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, secrets.token_bytes(size))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.unlink(path)
        fsync_dir(self._wrapped_dir)
        log.info("data key erased", extra={"event": "key_erased"})

    def rotate_kek(self, new_kek: bytes) -> None:
        """Re-wrap every data key under ``new_kek`` without touching any sealed data."""
        if len(new_kek) != KEY_SIZE:
            raise refuse("invalid", message_en="A KEK is 32 bytes.")
        names = [*self.names()]
        if self._path(IDENTITY).exists():
            names.append(IDENTITY)
        # Stage every re-wrapped key, then switch the KEK file (the commit point), then
        # promote the staged files; Keyring.open finishes or discards a half-done rotation.
        for name in names:
            key = _unwrap(self._kek, name, self._path(name).read_bytes())
            atomic_write(self._path(name, PENDING_SUFFIX), _wrap(new_kek, name, key))
        atomic_write(self._keys_dir / KEK_FILE, new_kek)
        self._kek = new_kek
        self._finish_rotation()
        log.info("kek rotated", extra={"event": "kek_rotated", "keys": len(names)})

    def _finish_rotation(self) -> None:
        pending = sorted(self._wrapped_dir.glob("*" + PENDING_SUFFIX))
        for staged in pending:
            name = staged.name[: -len(PENDING_SUFFIX)]
            try:
                _unwrap(self._kek, name, staged.read_bytes())
            except InvalidTag:
                staged.unlink()  # the rotation never committed: the old files still hold
                continue
            os.replace(staged, self._path(name))
        if pending:
            fsync_dir(self._wrapped_dir)
