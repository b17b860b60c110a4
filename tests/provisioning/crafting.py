"""Hand-made bundles for the refusal tests: what a damaged stick or an attacker would bring."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provisioning.crypto import load_org_key, sign
from provisioning.format import MANIFEST, SIGNATURE

Member = tuple[tarfile.TarInfo, bytes]


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, size: int | None = None, link: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data) if size is None else size, link
    return info, data


def tar_of(members: list[Member]) -> bytes:
    out = io.BytesIO()
    for info, data in members:
        out.write(info.tobuf(tarfile.USTAR_FORMAT))
        out.write(data)
        if len(data) % 512:
            out.write(b"\0" * (512 - len(data) % 512))
    out.write(b"\0" * 1024)
    return out.getvalue()


def entry(data: bytes, size: int | None = None) -> dict[str, Any]:
    return {"size": len(data) if size is None else size, "sha256": hashlib.sha256(data).hexdigest()}


def signed_bundle(key: Ed25519PrivateKey, manifest: dict[str, Any], members: list[Member], signature_key: Ed25519PrivateKey | None = None) -> bytes:
    raw = json.dumps(manifest).encode()
    sig = json.dumps(sign(signature_key or key, raw)).encode()
    return tar_of([member(MANIFEST, raw), member(SIGNATURE, sig), *members])


def split(bundle: bytes) -> tuple[dict[str, Any], list[Member]]:
    """A valid bundle's manifest and its file members (to rebuild it altered)."""
    with tarfile.open(fileobj=io.BytesIO(bundle), mode="r:") as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    manifest = json.loads(members[0][1])
    return manifest, [(info, data) for info, data in members[2:]]


def bad_bundles(valid: bytes, key_path: Path) -> dict[str, tuple[bytes, str]]:
    """Name -> (bundle bytes, the refusal code expected), from one valid bundle."""
    key = load_org_key(key_path)
    stranger = Ed25519PrivateKey.generate()
    manifest, members = split(valid)
    altered = dict(manifest, body="HĐND phường Giả mạo")
    raw = json.dumps(manifest).encode()
    doc_name = next(info.name for info, _ in members if info.name.startswith("documents/"))
    escape = dict(manifest, files={**manifest["files"], "../ngoai-goi.txt": entry(b"x")})
    link = dict(manifest, files={**manifest["files"], "documents/999.pdf": entry(b"", 0)})
    people = json.loads(next(data for info, data in members if info.name == "participants.json"))
    people[1] = dict(people[1], name=" ", seat=people[0]["seat"])  # a blank name on a seat already taken
    bad_people = json.dumps(people, ensure_ascii=False).encode()
    listed = dict(manifest, files={**manifest["files"], "participants.json": entry(bad_people)})
    roster = [(info, data) if info.name != "participants.json" else member("participants.json", bad_people) for info, data in members]
    huge = dict(manifest, files={**manifest["files"], doc_name: {"size": 2 * 1024**3, "sha256": "0" * 64}})
    return {
        "wrong_signature": (tar_of([member(MANIFEST, json.dumps(altered).encode()), member(SIGNATURE, json.dumps(sign(key, raw)).encode()), *members]), "bundle_signature"),
        "unknown_key": (signed_bundle(stranger, manifest, members), "bundle_untrusted"),
        "path_escape": (signed_bundle(key, escape, [*members, member("../ngoai-goi.txt", b"x")]), "bundle_invalid"),
        "symlink": (signed_bundle(key, link, [*members, member("documents/999.pdf", kind=tarfile.SYMTYPE, link="/etc/shadow")]), "bundle_invalid"),
        "declared_2gb": (signed_bundle(key, huge, [(info, data) if info.name != doc_name else member(doc_name, data[:1000], size=2 * 1024**3) for info, data in members]), "bundle_too_large"),
        "truncated": (valid[: len(valid) * 6 // 10], "bundle_invalid"),
        "future_format": (signed_bundle(key, dict(manifest, format=2), members), "bundle_version"),
        "participants_with_errors": (signed_bundle(key, listed, roster), "bundle_invalid"),
    }
