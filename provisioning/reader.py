"""Reading and verifying a bundle: the box's first line of defence against a bad stick.

Everything is checked before anything is used: member types (regular files only, no
links), paths, declared sizes against the limits (before reading the data), the
signature over the manifest, every file's size and SHA-256 against the signed
manifest, the format version, and the content of the JSON files and documents.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.core.errors import refuse
from appliance.meeting.roles import ROLES

from .crypto import fingerprint, verify_signature
from .format import (
    MANIFEST,
    MAX_AGENDA,
    MAX_BUNDLE_BYTES,
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_JSON_BYTES,
    MAX_PARTICIPANTS,
    SIGNATURE,
    check_document,
    check_format,
    check_member_name,
    invalid,
)


@dataclass
class Bundle:
    """A verified bundle held in memory: the signed manifest and every file it lists."""

    manifest: dict[str, Any]
    signer: bytes
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """The signer's fingerprint, as the technician page shows it."""
        return fingerprint(self.signer)

    @property
    def kind(self) -> str:
        """``provisioning`` or ``update``."""
        return str(self.manifest["kind"])

    def json(self, name: str, default: Any = None) -> Any:
        """A JSON file of the bundle, or ``default`` when absent."""
        if name not in self.files:
            return default
        try:
            return json.loads(self.files[name])
        except ValueError:
            raise invalid(f"Tệp {name} không phải JSON hợp lệ.", f"{name} is not valid JSON.", reason="json", path=name) from None


def read_bundle_file(path: Path, *, trusted: bytes | None = None) -> Bundle:
    """Read a bundle from disk (a stick), refusing an oversized file before reading it."""
    size = path.stat().st_size
    if size > MAX_BUNDLE_BYTES + 1024 * 1024:
        raise refuse("bundle_too_large", size=size, limit=MAX_BUNDLE_BYTES)
    if path.is_symlink():
        raise invalid("Gói là một liên kết (symlink).", "The bundle file is a symbolic link.", reason="link")
    return read_bundle(path.read_bytes(), trusted=trusted)


def read_bundle(data: bytes, *, trusted: bytes | None = None) -> Bundle:
    """Verify ``data``; with ``trusted`` set, a bundle signed by any other key is refused."""
    if len(data) > MAX_BUNDLE_BYTES + 1024 * 1024:
        raise refuse("bundle_too_large", size=len(data), limit=MAX_BUNDLE_BYTES)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            return _read(tar, trusted)
    except tarfile.TarError as exc:
        raise invalid(
            "Gói bị hỏng hoặc bị cắt cụt (chép chưa xong?). Hãy chép lại gói.",
            "The bundle is damaged or truncated (an unfinished copy?). Copy it again.",
            reason="truncated",
            error=str(exc)[:200],
        ) from None


def _member_data(tar: tarfile.TarFile, member: tarfile.TarInfo, limit: int) -> bytes:
    check_member_name(member.name)
    if member.issym() or member.islnk():
        raise invalid(f"'{member.name}' là liên kết; gói không được chứa liên kết.", f"'{member.name}' is a link; bundles hold no links.", reason="link", path=member.name)
    if not member.isreg():
        raise invalid(f"'{member.name}' không phải tệp thường.", f"'{member.name}' is not a regular file.", reason="type", path=member.name)
    if member.size > limit:
        raise refuse("bundle_too_large", path=member.name, size=member.size, limit=limit)
    handle = tar.extractfile(member)
    body = handle.read() if handle is not None else b""
    if len(body) != member.size:
        raise invalid("Gói bị cắt cụt.", f"The bundle is truncated inside '{member.name}'. Copy it again.", reason="truncated", path=member.name)
    return body


def _read(tar: tarfile.TarFile, trusted: bytes | None) -> Bundle:
    first, second = tar.next(), tar.next()
    if first is None or second is None or first.name != MANIFEST or second.name != SIGNATURE:
        raise invalid("Gói phải bắt đầu bằng manifest.json và signature.json.", "A bundle starts with manifest.json then signature.json.", reason="layout")
    raw_manifest = _member_data(tar, first, MAX_JSON_BYTES)
    raw_signature = _member_data(tar, second, MAX_JSON_BYTES)
    try:
        signature = json.loads(raw_signature)
        manifest = json.loads(raw_manifest)
    except ValueError:
        raise invalid("manifest.json hoặc signature.json hỏng.", "manifest.json or signature.json is not valid JSON.", reason="json") from None
    if not isinstance(signature, dict) or not isinstance(manifest, dict):
        raise invalid("manifest.json hoặc signature.json hỏng.", "manifest.json or signature.json is not an object.", reason="json")
    signer = verify_signature(signature, raw_manifest)
    if trusted is not None and signer != trusted:
        raise refuse("bundle_untrusted", signer=fingerprint(signer), trusted=fingerprint(trusted))
    check_format(manifest)
    bundle = Bundle(manifest, signer)
    declared: dict[str, Any] = manifest["files"]
    count = 0
    while (member := tar.next()) is not None:
        count += 1
        if count > MAX_FILES:
            raise refuse("bundle_too_large", reason="files", limit=MAX_FILES)
        entry = declared.get(member.name)
        if entry is None or member.name in bundle.files:
            raise invalid(f"Tệp '{member.name}' không có trong manifest.", f"'{member.name}' is not listed in the signed manifest.", reason="unlisted", path=member.name)
        if member.size != entry["size"]:
            raise refuse("bundle_signature", path=member.name, reason="size")
        body = _member_data(tar, member, MAX_FILE_BYTES)
        if hashlib.sha256(body).hexdigest() != entry["sha256"]:
            raise refuse("bundle_signature", path=member.name, reason="sha256")
        bundle.files[member.name] = body
    missing = sorted(set(declared) - set(bundle.files))
    if missing:
        raise invalid("Gói bị cắt cụt: thiếu tệp.", f"The bundle is truncated: {len(missing)} file(s) missing, e.g. '{missing[0]}'.", reason="truncated", missing=missing[:10])
    if bundle.kind == "provisioning":
        check_provisioning(bundle)
    return bundle


def check_provisioning(bundle: Bundle) -> None:
    """The content of a provisioning bundle is what the box can apply."""
    m = bundle.manifest
    for key in ("body", "session"):
        if not isinstance(m.get(key), str) or not m[key].strip():
            raise invalid(f"manifest thiếu '{key}'.", f"The manifest has no '{key}'.", reason="manifest")
    people = bundle.json("participants.json")
    if not isinstance(people, list) or not 0 < len(people) <= MAX_PARTICIPANTS:
        raise invalid("Danh sách người tham dự trống hoặc quá lớn.", "participants.json is empty or too long.", reason="participants")
    seats: set[int] = set()
    for n, p in enumerate(people, start=1):
        seat = p.get("seat") if isinstance(p, dict) else None
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"].strip() or p.get("role") not in ROLES:
            raise invalid(f"Người tham dự thứ {n} không hợp lệ.", f"Participant {n} is not valid.", reason="participants", row=n)
        if seat is not None and (not isinstance(seat, int) or seat in seats):
            raise invalid(f"Ghế của người thứ {n} không hợp lệ hoặc trùng.", f"Participant {n}'s seat is invalid or taken.", reason="seating", row=n)
        if seat is not None:
            seats.add(seat)
    plan = bundle.json("seating.json", {"seats": []})
    listed = {int(s["seat"]) for s in plan.get("seats", []) if isinstance(s, dict) and isinstance(s.get("seat"), int)}
    if listed != seats:
        raise invalid("Sơ đồ chỗ ngồi không khớp danh sách.", "seating.json does not match the participants' seats.", reason="seating")
    displays = m.get("displays") or []
    if not isinstance(displays, list) or len(displays) > 50 or not all(isinstance(n, str) and 0 < len(n) <= 200 for n in displays):
        raise invalid("Danh sách màn hình không hợp lệ.", "The manifest's 'displays' is not a list of names.", reason="manifest")
    admins = bundle.json("admins.json", [])
    if not isinstance(admins, list) or not all(_admin_ok(a) for a in admins):
        raise invalid("Danh sách quản trị viên không hợp lệ.", "admins.json is not a list of administrator accounts.", reason="admins")
    agenda = bundle.json("agenda.json")
    if not isinstance(agenda, list) or len(agenda) > MAX_AGENDA:
        raise invalid("Chương trình không hợp lệ.", "agenda.json is not a list of items.", reason="agenda")
    for n, item in enumerate(agenda, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("title"), str) or not item["title"].strip():
            raise invalid(f"Mục chương trình {n} không có tiêu đề.", f"Agenda item {n} has no title.", reason="agenda", item=n)
        for doc in item.get("documents", []):
            name = doc.get("file") if isinstance(doc, dict) else None
            if not isinstance(name, str) or not name.startswith("documents/") or name not in bundle.files:
                raise invalid(f"Mục {n}: thiếu tài liệu.", f"Agenda item {n} names a document the bundle lacks.", reason="agenda", item=n)
            check_document(str(doc.get("filename") or name), bundle.files[name])


def _admin_ok(admin: Any) -> bool:
    from .admins import ADMIN_ROLES

    if not isinstance(admin, dict) or not isinstance(admin.get("username"), str) or not admin["username"].strip():
        return False
    password = admin.get("password")
    return admin.get("role", "technician") in ADMIN_ROLES and isinstance(password, dict) and password.get("alg") == "scrypt"
