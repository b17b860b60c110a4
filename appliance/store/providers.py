"""Key providers: where the key-encryption key (KEK) comes from.

The KEK never lives in the data directory, so a stolen disk alone opens nothing. Where
it lives is a provider: ``file`` (a file in a keys directory: development and the demo),
``usb`` (a file on a key stick found by its filesystem label: the box in the hall), and
``tpm2`` (sealed to this machine's TPM: not built yet, refuses with ``not_supported``).
A provider only reads and writes the KEK; wrapping data keys is the Keyring's job.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Protocol

from appliance.core.errors import PhsError, refuse

from .sealing import KEY_SIZE, atomic_write, fsync_dir

log = logging.getLogger(__name__)

KEK_FILE = "kek.key"
STICK_DIR = "phs"  # on the stick: <mount>/phs/kek.key
PROVIDERS = ("file", "usb", "tpm2")


def _locked(vi: str, en: str) -> PhsError:
    return refuse("locked", message=vi, message_en=en)


def read_kek_file(path: Path) -> bytes:
    """Read a 32-byte KEK file; ``locked`` when it is missing or the wrong size."""
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


class KeyProvider(Protocol):
    """Reads and writes the KEK; never logs or returns it anywhere but to the Keyring."""

    name: str
    may_appear: bool  # True: when absent the box waits (locked) instead of refusing to start

    def available(self) -> bool:
        """Whether a KEK can be read right now (a stick is plugged in, the file exists)."""
        ...

    def read_kek(self) -> bytes:
        """The KEK; PhsError ``locked`` when absent or damaged."""
        ...

    def create_kek(self) -> None:
        """Make a first KEK (a fresh box); providers that cannot refuse."""
        ...

    def write_kek(self, kek: bytes) -> None:
        """Replace the KEK atomically (rotation's commit point)."""
        ...

    def describe(self) -> dict[str, str]:
        """Where the provider looks, for ``phs keys status`` (never the key)."""
        ...


class FileKeyProvider:
    """``kek.key`` in a keys directory outside the data directory (development, demo)."""

    name = "file"
    may_appear = False

    def __init__(self, keys_dir: Path) -> None:
        self.keys_dir = Path(keys_dir)
        self.path = self.keys_dir / KEK_FILE

    def available(self) -> bool:
        """Whether the key file exists."""
        return self.path.exists()

    def read_kek(self) -> bytes:
        """Read the key file."""
        return read_kek_file(self.path)

    def create_kek(self) -> None:
        """A random KEK, mode 0600, with a warning: a production box keeps it on a stick."""
        self.keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.keys_dir, 0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(self.path, 0o600)
        fsync_dir(self.keys_dir)
        log.warning(
            "created a development key file; a production box keeps its KEK on a key stick",
            extra={"event": "kek_created"},
        )

    def write_kek(self, kek: bytes) -> None:
        """Replace the key file atomically."""
        atomic_write(self.path, kek)

    def describe(self) -> dict[str, str]:
        """The key file's path."""
        return {"provider": self.name, "where": str(self.path)}


class UsbKeyProvider:
    """``phs/kek.key`` on a key stick, found by filesystem label (or a fixed mount for tests)."""

    name = "usb"
    may_appear = True

    def __init__(
        self,
        label: str,
        mount_dir: Path | None = None,
        *,
        by_label: Path = Path("/dev/disk/by-label"),
        mounts: Path = Path("/proc/mounts"),
    ) -> None:
        self.label = label
        self.mount_dir = mount_dir
        self._by_label = by_label
        self._mounts = mounts

    def mount_point(self) -> Path | None:
        """Where the stick is mounted now, or None (not plugged in, or not mounted yet)."""
        if self.mount_dir is not None:
            return self.mount_dir if self.mount_dir.is_dir() else None
        device = self._by_label / self.label
        if not device.exists():
            return None
        real = os.path.realpath(device)
        try:
            lines = self._mounts.read_text().splitlines()
        except OSError:
            return None
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and os.path.realpath(parts[0]) == real:
                # /proc/mounts escapes spaces and the like as octal (\040)
                return Path(parts[1].encode().decode("unicode_escape"))
        return None

    def _path(self) -> Path | None:
        mount = self.mount_point()
        return None if mount is None else mount / STICK_DIR / KEK_FILE

    def available(self) -> bool:
        """Whether the stick is mounted and carries a key file."""
        path = self._path()
        return path is not None and path.exists()

    def read_kek(self) -> bytes:
        """Read the key file from the stick; ``locked`` asking for the stick when absent."""
        path = self._path()
        if path is None:
            raise _locked(
                f"Hộp đang khóa. Hãy cắm khóa USB (nhãn {self.label}).",
                f"The box is locked. Insert the key stick (label {self.label}).",
            )
        return read_kek_file(path)

    def create_kek(self) -> None:
        """A fresh box with its stick in makes the KEK on the stick; no stick, no key."""
        path = self._path()
        if path is None:
            self.read_kek()  # raises the "insert the stick" refusal
            return
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(path.parent)
        log.warning("created the KEK on the key stick; keep a copy in the safe", extra={"event": "kek_created"})

    def write_kek(self, kek: bytes) -> None:
        """Replace the key file on the stick atomically (rotation)."""
        path = self._path()
        if path is None:
            self.read_kek()  # raises the "insert the stick" refusal
            return
        path.parent.mkdir(mode=0o700, exist_ok=True)
        atomic_write(path, kek)

    def describe(self) -> dict[str, str]:
        """The label and where the stick is mounted, if it is."""
        mount = self.mount_point()
        return {"provider": self.name, "label": self.label, "mount": str(mount) if mount else ""}


class Tpm2KeyProvider:
    """Placeholder: a KEK sealed to this machine's TPM 2.0 (PCR policy) is planned, not built."""

    name = "tpm2"
    may_appear = False

    def _refuse(self) -> PhsError:
        return refuse(
            "not_supported",
            "Nhà cung cấp khóa TPM2 chưa được hỗ trợ; hãy dùng khóa USB.",
            "The tpm2 key provider is not supported yet; use the usb provider.",
        )

    def available(self) -> bool:
        """Never: nothing is built."""
        return False

    def read_kek(self) -> bytes:
        """Refuses with ``not_supported``."""
        raise self._refuse()

    def create_kek(self) -> None:
        """Refuses with ``not_supported``."""
        raise self._refuse()

    def write_kek(self, kek: bytes) -> None:
        """Refuses with ``not_supported``."""
        raise self._refuse()

    def describe(self) -> dict[str, str]:
        """The provider's name only."""
        return {"provider": self.name}


def make_provider(kind: str, keys_dir: Path, label: str = "", mount: str = "") -> KeyProvider:
    """The provider a setting names; an unknown name is ``invalid``."""
    if kind == "file":
        return FileKeyProvider(keys_dir)
    if kind == "usb":
        return UsbKeyProvider(label or "PHS-KEY", Path(mount) if mount else None)
    if kind == "tpm2":
        return Tpm2KeyProvider()
    raise refuse("invalid", message_en=f"key_provider must be one of {', '.join(PROVIDERS)}.")
