"""Keys: the key-encryption key (KEK), per-sitting and per-document data keys, and the box's signing identity.

The KEK comes from a key provider (``providers.py``: a file for development, a key stick
in production), never from the data directory. Every data key is random and stored only
wrapped by the KEK, so destroying one wrapped file erases everything sealed with that key
(crypto-shredding). An erased name leaves a tombstone (``<name>.erased``) so readers can
tell a shredded sitting from a missing file, and the name is never issued again.
A document's blobs are sealed with its own key (``doc-<document id>``), so erasing a
sitting can shred the documents that go with it and no others.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from appliance.core.errors import PhsError, refuse

from .providers import KEK_FILE, FileKeyProvider, KeyProvider
from .sealing import KEY_SIZE, InvalidTag, atomic_write, fsync_dir, seal, shred_file, unseal

log = logging.getLogger(__name__)

__all__ = ["KEK_FILE", "Keyring", "bundle_key_name", "document_key_name", "sitting_key_name"]

WRAPPED_SUFFIX = ".wrapped"
ERASED_SUFFIX = ".erased"
SITTING_PREFIX = "sitting-"
DOCUMENT_PREFIX = "doc-"
BUNDLE_PREFIX = "bundle-"
MINUTES_PREFIX = "minutes-"
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


def minutes_key_name(sitting_id: str) -> str:
    """The key a sitting's finalised minutes (PDF, DOCX) are sealed with: they go when it is erased."""
    return MINUTES_PREFIX + sitting_id


def sitting_key_name(sitting_id: str) -> str:
    """The data key a sitting's records are sealed with (DESIGN: one key per sitting)."""
    return SITTING_PREFIX + sitting_id


def document_key_name(document_id: str) -> str:
    """The data key a document's blobs are sealed with: its pages, text, PDF and original."""
    return DOCUMENT_PREFIX + document_id


def bundle_key_name(bundle_id: str) -> str:
    """The data key an applied provisioning bundle is kept with (it holds documents' originals)."""
    return BUNDLE_PREFIX + bundle_id


class Keyring:
    """Holds the KEK in memory and hands out data keys, MAC keys and the signing identity."""

    def __init__(self, kek: bytes, provider: KeyProvider, data_dir: Path) -> None:
        self._kek = kek
        self.provider = provider
        self._wrapped_dir = data_dir / "keys"
        self._cache: dict[str, bytes] = {}

    @classmethod
    def open(
        cls, keys_dir: Path, data_dir: Path, *, create: bool, provider: KeyProvider | None = None
    ) -> Keyring:
        """Unlock the box; without a KEK refuse with ``locked``, touching nothing.

        ``create`` makes a first KEK only for a fresh data directory: when wrapped keys
        exist the missing KEK is the one that sealed them, and a new one would open nothing.
        """
        keys_dir, data_dir = Path(keys_dir), Path(data_dir)
        provider = provider or FileKeyProvider(keys_dir)
        if isinstance(provider, FileKeyProvider) and keys_dir.resolve().is_relative_to(
            data_dir.resolve()
        ):
            raise refuse(
                "invalid",
                message="Thư mục khóa phải nằm ngoài thư mục dữ liệu.",
                message_en="The keys directory must be outside the data directory.",
            )
        if not provider.available():
            if create and not has_wrapped_keys(data_dir):
                provider.create_kek()
            elif create:
                raise refuse(
                    "locked",
                    "Không tìm thấy khóa mã hóa của hộp, nhưng dữ liệu đã được mã hóa bằng nó. "
                    "Hãy cắm đúng khóa USB hoặc khôi phục tệp khóa; hộp không khởi động.",
                    "The box's key-encryption key is missing, but the data is sealed with it. "
                    "Insert the right key stick or restore the key file; the box will not start.",
                    provider=provider.name,
                )
        kek = provider.read_kek()
        ring = cls(kek, provider, data_dir)
        ring._wrapped_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        ring._finish_rotation()
        return ring

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
        if self.erased(name):
            raise refuse(
                "conflict",
                "Khóa dữ liệu này đã bị hủy (phiên họp đã xóa).",
                "This data key was erased (the sitting was shredded).",
            )
        return self._load_or_create(name)

    def erased(self, name: str) -> bool:
        """Whether ``name`` was crypto-shredded (a tombstone is on disk)."""
        return self._path(name, ERASED_SUFFIX).exists()

    def erased_names(self) -> list[str]:
        """Names that were erased, for audits."""
        return sorted(
            p.name[: -len(ERASED_SUFFIX)] for p in self._wrapped_dir.glob("*" + ERASED_SUFFIX)
        )

    def journal_key(self, name: str) -> bytes | None:
        """For the writer: None when erased, else the key (created on first use)."""
        return None if self.erased(name) else self.data_key(name)

    def existing_key(self, name: str) -> bytes | None:
        """For readers, without writing: None when erased, LookupError when it never existed."""
        _check_name(name)
        if self.erased(name):
            return None
        if name not in self._cache and not self._path(name).exists():
            raise LookupError(name)
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

    def erase(self, name: str, *, missing_ok: bool = False) -> None:
        """Crypto-shred ``name``: leave a tombstone, then overwrite and unlink its wrapped key.

        ``missing_ok`` tombstones a name that has no key (a document stored before documents
        had keys of their own), so readers still learn it was erased."""
        _check_name(name)
        path = self._path(name)
        self._cache.pop(name, None)
        if not path.exists() and not missing_ok:
            raise refuse("not_found")
        # The tombstone first: a crash between the two leaves a key that still opens and
        # a name that can no longer be written to; running erase again finishes the job.
        stone = json.dumps({"erased_at": round(time.time(), 3)}).encode()
        atomic_write(self._path(name, ERASED_SUFFIX), stone)
        # Overwriting is best effort on flash (the FTL may keep old pages); the KEK that
        # wrapped any surviving copy should be rotated after shredding on real hardware.
        if path.exists():
            shred_file(path)
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
        self.provider.write_kek(new_kek)
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


def has_wrapped_keys(data_dir: Path) -> bool:
    """Whether the data directory holds data sealed under some KEK (not a fresh box)."""
    wrapped = Path(data_dir) / "keys"
    return wrapped.is_dir() and any(wrapped.glob("*" + WRAPPED_SUFFIX))
