"""The bundle layout and its limits (docs/BUNDLE.md is the prose version of this module).

A bundle is an uncompressed POSIX tar file (``*.phsb``): ``manifest.json`` first, then
``signature.json``, then the files the manifest lists with their size and SHA-256.
Uncompressed, so a verifier can check every declared size before reading a byte and a
decompression bomb is impossible; tar, so the IT person can look inside with any tool.
"""

from __future__ import annotations

import re
from typing import Any

from appliance.core.errors import PhsError, refuse

from . import FORMAT_VERSION

SUFFIX = ".phsb"
MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
KINDS = ("provisioning", "update")
# Limits: a large council's documents fit easily (hundreds of MB would be unusual).
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_FILES = 2000
MAX_DEPTH = 6
MAX_PARTICIPANTS = 5000
MAX_AGENDA = 200
MAX_BUNDLES_ON_STICK = 20
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
DOCUMENT_TYPES = {".pdf": b"%PDF-", ".docx": b"PK\x03\x04", ".xlsx": b"PK\x03\x04", ".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}


def invalid(vi: str, en: str, **detail: Any) -> PhsError:
    """A ``bundle_invalid`` refusal with a reason the IT person can act on."""
    return refuse("bundle_invalid", vi, en, **detail)


def check_member_name(name: str) -> str:
    """A path inside the bundle: relative, no ``..``, plain segments; refused otherwise."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        raise invalid(f"Đường dẫn '{name}' trong gói là đường dẫn tuyệt đối.", f"'{name}' is an absolute or malformed path.", reason="path", path=name)
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise invalid(f"Đường dẫn '{name}' trỏ ra ngoài gói.", f"'{name}' escapes the bundle.", reason="path", path=name)
    if len(parts) > MAX_DEPTH or not all(_SEGMENT.match(p) for p in parts):
        raise invalid(f"Tên tệp '{name}' không hợp lệ.", f"'{name}' is not an allowed file name.", reason="path", path=name)
    return name


def check_format(manifest: dict[str, Any]) -> None:
    """The format version and kind; a newer format asks for a software update first."""
    version = manifest.get("format")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise invalid("Gói không ghi phiên bản định dạng.", "The manifest has no valid format version.", reason="format")
    if version > FORMAT_VERSION:
        raise refuse("bundle_version", detail_version=version, supported=FORMAT_VERSION)
    if manifest.get("kind") not in KINDS:
        raise invalid("Loại gói không xác định.", f"Unknown bundle kind {manifest.get('kind')!r}.", reason="kind")
    files = manifest.get("files")
    if not isinstance(files, dict) or len(files) > MAX_FILES:
        raise refuse("bundle_too_large", reason="files", limit=MAX_FILES)
    total = 0
    for name, entry in files.items():
        check_member_name(name)
        size = entry.get("size") if isinstance(entry, dict) else None
        digest = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(size, int) or size < 0 or not isinstance(digest, str) or len(digest) != 64:
            raise invalid(f"Mục '{name}' của manifest không hợp lệ.", f"The manifest entry for '{name}' is not valid.", reason="manifest")
        if size > MAX_FILE_BYTES:
            raise refuse("bundle_too_large", path=name, size=size, limit=MAX_FILE_BYTES)
        total += size
    if total > MAX_BUNDLE_BYTES:
        raise refuse("bundle_too_large", size=total, limit=MAX_BUNDLE_BYTES)


def check_document(name: str, data: bytes) -> None:
    """A document is one of the types the box ingests and starts like one."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    magic = DOCUMENT_TYPES.get(suffix)
    if magic is None or not data.startswith(magic):
        raise invalid(
            f"Tài liệu '{name}' không phải PDF, DOCX, XLSX hay ảnh hợp lệ.",
            f"The document '{name}' is not a valid PDF, DOCX, XLSX or image.",
            reason="document",
            path=name,
        )
