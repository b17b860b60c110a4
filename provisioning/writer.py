"""Building a bundle on the IT person's laptop: check everything, then write once.

``plan_bundle`` reads the sitting file (YAML), the participant list and the documents
folder and returns every problem it finds (with line numbers) or a plan; only a plan
without problems is written, atomically (temp file + rename), so a stick never holds
half a bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import __version__
from appliance.core.errors import PhsError
from appliance.core.text import nfc

from . import FORMAT_VERSION
from .crypto import hash_password, read_enrolment, seal_secret, sign
from .format import DOCUMENT_TYPES, MANIFEST, SIGNATURE
from .roster import Problem, read_roster

Progress = Callable[[str, int, int], None]
ACCESS = ("public", "delegates", "confidential")


@dataclass
class Plan:
    """What will go into the bundle, and what is wrong with the inputs."""

    manifest: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()


def _problem(plan: Plan, vi: str, en: str) -> None:
    plan.problems.append(f"{vi} / {en}")


def plan_bundle(
    config: dict[str, Any],
    participants: Path,
    documents: Path | None,
    enrolment: dict[str, Any] | None,
    progress: Progress | None = None,
) -> Plan:
    """Read and check every input; nothing is written here."""
    plan = Plan()
    roster = read_roster(participants)
    plan.problems += [f"{participants.name}: {p}" for p in roster.problems]
    box: tuple[str, bytes] | None = None
    if enrolment is not None:
        try:
            box = read_enrolment(enrolment)
        except PhsError as err:
            _problem(plan, err.message, err.message_en)
    for key in ("body", "session"):
        if not str(config.get(key) or "").strip():
            _problem(plan, f"tệp cấu hình thiếu '{key}'", f"the configuration has no '{key}'")
    sittings = config.get("sittings") or [{"title": "Phiên họp thứ nhất"}]
    sittings = [s if isinstance(s, dict) else {"title": str(s)} for s in sittings]
    agenda = _agenda(plan, config, documents, progress)
    network = _network(plan, config.get("network"), box)
    upstream = _upstream(plan, config.get("upstream"), box)
    admins = _admins(plan, config.get("admins") or [])
    seats = [{"seat": p["seat"], "participant": i} for i, p in enumerate(roster.participants) if p["seat"] is not None]
    layout = config.get("seating") if isinstance(config.get("seating"), dict) else None
    plan.files["participants.json"] = _json(roster.participants)
    plan.files["seating.json"] = _json({"layout": layout, "seats": seats})
    plan.files["agenda.json"] = _json(agenda)
    for name, value in (("network.json", network), ("upstream.json", upstream), ("admins.json", admins)):
        if value:
            plan.files[name] = _json(value)
    plan.manifest = {
        "format": FORMAT_VERSION,
        "kind": "provisioning",
        "id": hashlib.sha256(os.urandom(16)).hexdigest()[:16],
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "generator": f"phs {__version__}",
        "box": box[0] if box else None,
        "body": str(config.get("body") or "").strip(),
        "session": str(config.get("session") or "").strip(),
        "room": str(config.get("room") or "").strip(),
        "displays": _displays(plan, config.get("displays", ["Màn hình hội trường"])),
        "rehearsal": bool(config.get("rehearsal", False)),
        "replace": bool(config.get("replace", False)),
        "sittings": [{"title": str(s.get("title") or "").strip(), "date": str(s.get("date") or "")} for s in sittings],
        "counts": {
            "participants": len(roster.participants),
            "seats": len(seats),
            "agenda": len(agenda),
            "documents": sum(len(i["documents"]) for i in agenda),
        },
    }
    return plan


def _agenda(plan: Plan, config: dict[str, Any], folder: Path | None, progress: Progress | None) -> list[dict[str, Any]]:
    available = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_TYPES) if folder else []
    items = config.get("agenda")
    if items is None:  # no agenda written: one item per document, in file-name order
        items = [{"title": p.stem.replace("-", " ").replace("_", " ").capitalize(), "documents": [p.name]} for p in available]
    by_name = {p.name: p for p in available}
    wanted = [(n, d) for n, item in enumerate(items, start=1) for d in (item.get("documents") or [])]
    out: list[dict[str, Any]] = []
    done = 0
    for n, item in enumerate(items, start=1):
        title = str(item.get("title") or "").strip()
        if not title:
            _problem(plan, f"mục chương trình {n} không có tiêu đề", f"agenda item {n} has no title")
        access = str(item.get("access") or "delegates")
        if access not in ACCESS:
            _problem(plan, f"mục {n}: mức truy cập '{access}' không rõ", f"item {n}: unknown access '{access}'")
        docs: list[dict[str, Any]] = []
        for name in item.get("documents") or []:
            done += 1
            if progress:
                progress("documents", done, len(wanted))
            path = by_name.get(str(name))
            if path is None:
                _problem(plan, f"mục {n}: không thấy tài liệu '{name}'", f"item {n}: document '{name}' not found in the folder")
                continue
            docs.append(_document(plan, path, len(plan.files), access))
        out.append({"title": title, "documents": docs})
    return out


def _document(plan: Plan, path: Path, index: int, access: str) -> dict[str, Any]:
    from appliance.documents import ingest

    data = path.read_bytes()
    pages = 0
    try:
        pages = ingest(data, path.name).page_count
    except PhsError as err:
        _problem(plan, f"tài liệu '{path.name}': {err.message}", f"document '{path.name}': {err.message_en} ({err.detail.get('reason', '')})")
    inside = f"documents/{index:03d}{path.suffix.lower()}"
    plan.files[inside] = data
    return {"file": inside, "filename": path.name, "access": access, "pages": pages, "sha256": hashlib.sha256(data).hexdigest()}


def _displays(plan: Plan, raw: Any) -> list[str]:
    """Names of the hall displays (each gets a participant the technician pairs the screen as)."""
    names = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if names is None or len(names) > 50 or not all(isinstance(n, str) and 0 < len(n.strip()) <= 200 for n in names):
        _problem(plan, "'displays' phải là danh sách tên màn hình (tối đa 50)", "'displays' must be a list of display names (at most 50)")
        return []
    if len({n.strip() for n in names}) != len(names):
        _problem(plan, "'displays': tên màn hình bị trùng", "'displays': a display name is used twice")
    return [nfc(n.strip()) for n in names]


def _needs_box(plan: Plan, what: str, box: tuple[str, bytes] | None) -> bool:
    if box is None:
        _problem(plan, f"cần enrol.json của hộp (--box) để mã hóa {what}", f"{what} needs the box's enrol.json (--box) to be encrypted")
    return box is not None


def _network(plan: Plan, net: Any, box: tuple[str, bytes] | None) -> dict[str, Any] | None:
    if not net:
        return None
    from appliance.network.config import NetworkSettings

    fields = {k: v for k, v in dict(net).items() if k in NetworkSettings.__dataclass_fields__}
    try:
        NetworkSettings(**fields).validate()
    except (PhsError, TypeError) as err:
        msg = (err.message, err.message_en) if isinstance(err, PhsError) else (str(err), str(err))
        _problem(plan, *msg)
        return None
    if not _needs_box(plan, "mật khẩu Wi-Fi / the Wi-Fi passphrase", box):
        return None
    assert box is not None
    fields["passphrase"] = seal_secret(box[1], fields["passphrase"], "wifi")
    return fields


def _upstream(plan: Plan, raw: Any, box: tuple[str, bytes] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    up: dict[str, Any] = {str(k): v for k, v in dict(raw).items()}
    secret = {k: up.pop(k) for k in ("access_key", "secret_key") if k in up}
    if not str(up.get("endpoint") or "").startswith(("https://", "http://")) or not up.get("bucket"):
        _problem(plan, "kho lưu trữ cần 'endpoint' (https://...) và 'bucket'", "upstream needs an 'endpoint' (https://...) and a 'bucket'")
        return None
    if not _needs_box(plan, "thông tin đăng nhập kho lưu trữ / upstream credentials", box):
        return None
    assert box is not None
    up["credentials"] = seal_secret(box[1], secret, "upstream")
    return up


def _admins(plan: Plan, admins: list[Any]) -> list[dict[str, Any]]:
    from .admins import ADMIN_ROLES, DEFAULT_ROLE

    out: list[dict[str, Any]] = []
    for n, admin in enumerate(admins, start=1):
        if not isinstance(admin, dict):
            _problem(plan, f"quản trị viên {n}: cần username và password_env", f"administrator {n}: needs a username and password_env")
            continue
        env = str(admin.get("password_env") or "")
        password = str(admin.get("password") or os.environ.get(env, ""))
        role = str(admin.get("role") or DEFAULT_ROLE)
        username = str(admin.get("username") or "").strip()
        if not username or len(password) < 10:
            hint = f" (biến môi trường {env} chưa đặt / the environment variable {env} is not set)" if env and env not in os.environ else ""
            _problem(plan, f"quản trị viên {n}: cần tên và mật khẩu ≥ 10 ký tự{hint}", f"administrator {n}: needs a username and a password of 10+ characters{hint}")
            continue
        if role not in ADMIN_ROLES:
            _problem(plan, f"quản trị viên {n}: vai trò '{role}' phải là technician hoặc secretary",
                     f"administrator {n}: role '{role}' must be technician or secretary")
            continue
        if any(a["username"] == username for a in out):
            _problem(plan, f"quản trị viên {n}: tên '{username}' bị trùng", f"administrator {n}: the username '{username}' is used twice")
            continue
        name = str(admin.get("name") or username).strip()
        out.append({"username": username, "name": name, "role": role, "password": hash_password(password)})
    return out


def _member(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uname, info.gname = len(data), mtime, 0o644, "phs", "phs"
    tar.addfile(info, io.BytesIO(data))


def write_bundle(manifest: dict[str, Any], files: dict[str, bytes], key: Ed25519PrivateKey, output: Path) -> Path:
    """Sign the manifest (with every file's size and SHA-256) and write the tar atomically."""
    manifest = dict(manifest, files={n: {"size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for n, d in files.items()})
    raw = _json(manifest)
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", time.time()))
    tmp = output.with_name(f".{output.name}.part")
    with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
        _member(tar, MANIFEST, raw, mtime)
        _member(tar, SIGNATURE, _json(sign(key, raw)), mtime)
        for name, data in files.items():
            _member(tar, name, data, mtime)
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, output)
    return output


def problems_text(problems: list[Problem] | list[str]) -> str:
    """The report printed before anything is written."""
    return "\n".join(f"  - {p}" for p in problems)
