"""Verify and open sealed archives: what ``phs archive verify`` and ``phs archive open`` run.

Without the archive's private key a verifier checks what the clear part allows: the
box's signature over the whole file and the manifest's hash. With it, every chunk is
opened and every part's SHA-256 compared with the manifest, and the minutes' detached
signature is checked against the box key that signed the envelope.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from appliance.archive.build import MANIFEST
from appliance.archive.envelope import canonical, check_outer, decrypt
from appliance.archive.signing import check_signature
from appliance.core.errors import PhsError


class _Stream:
    """A read-only file over decrypted chunks, for ``tarfile`` in stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks, self._buf = chunks, bytearray()

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                break
        n = len(self._buf) if n < 0 else min(n, len(self._buf))
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out


def _members(path: Path, private: X25519PrivateKey) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=_Stream(decrypt(path, private)), mode="r|") as tar:  # type: ignore[call-overload]
        for info in tar:
            handle = tar.extractfile(info) if info.isfile() else None
            yield info.name, handle.read() if handle is not None else b""


def check_parts(manifest: dict[str, Any], files: dict[str, bytes], box_key: bytes | None) -> list[str]:
    """Each part against the manifest, the minutes against their signature; the problems found."""
    problems: list[str] = []
    listed = {p["path"]: p for p in manifest.get("parts", [])}
    for name, entry in listed.items():
        data = files.get(name)
        if data is None:
            problems.append(f"{name}: missing")
        elif hashlib.sha256(data).hexdigest() != entry["sha256"] or len(data) != entry["size"]:
            problems.append(f"{name}: hash differs from the manifest (modified)")
    problems += [f"{name}: not in the manifest" for name in files if name not in listed and name != MANIFEST]
    pdf, sig = files.get("minutes/minutes.pdf"), files.get("minutes/minutes.pdf.sig")
    if pdf is not None and sig is not None:
        why = check_signature(pdf, sig, box_key)
        if why:
            problems.append(f"minutes/minutes.pdf: {why}")
    if pdf is not None and hashlib.sha256(pdf).hexdigest() != manifest.get("minutes", {}).get("pdf_sha256"):
        problems.append("minutes/minutes.pdf: not the minutes the journal finalised")
    records = files.get("journal/records.jsonl")
    if records is not None:
        problems += _journal(records, manifest)
    return problems


def _journal(data: bytes, manifest: dict[str, Any]) -> list[str]:
    """Positions rise, and the last record is the chain value the manifest names."""
    try:
        lines = [json.loads(line) for line in data.splitlines() if line]
    except ValueError:
        return ["journal/records.jsonl: not JSON lines"]
    positions = [int(x["position"]) for x in lines]
    if positions != sorted(set(positions)):
        return ["journal/records.jsonl: positions out of order"]
    cut = manifest.get("journal", {})
    if not lines or lines[-1]["position"] != cut.get("cut") or lines[-1]["hash"] != cut.get("chain"):
        return ["journal/records.jsonl: does not end at the manifest's journal head"]
    return []


def verify_file(path: Path, private: X25519PrivateKey | None = None, box_key: bytes | None = None) -> dict[str, Any]:
    """The verdict on a sealed archive file: ``{"ok", "sitting", "manifest_sha256", "opened", "problems"}``."""
    try:
        header, problems = check_outer(path, box_key)
    except PhsError as err:
        return {"ok": False, "opened": False, "problems": [err.message_en]}
    report: dict[str, Any] = {"sitting": header.get("sitting"), "manifest_sha256": header.get("manifest_sha256"),
                              "opened": private is not None}
    if private is not None:
        files: dict[str, bytes] = {}
        try:
            for name, data in _members(path, private):
                files[name] = data
        except (PhsError, tarfile.TarError) as err:
            problems.append(err.message_en if isinstance(err, PhsError) else f"inner archive: {err}")
        inner = files.get(MANIFEST)
        if inner is not None and inner != canonical(header.get("manifest")):
            problems.append(f"{MANIFEST}: differs from the signed header (modified)")
        elif inner is None and files:
            problems.append(f"{MANIFEST}: missing")
        signer = bytes.fromhex(str(header.get("box_public_key", "")))
        problems += check_parts(header.get("manifest") or {}, files, box_key or signer) if files else []
    return dict(report, ok=not problems, problems=problems)


def verify_dir(directory: Path, box_key: bytes | None = None, manifest_sha256: str | None = None) -> dict[str, Any]:
    """The verdict on an opened archive (what ``phs archive open`` wrote).

    ``manifest_sha256`` (from the signed envelope, the receipt or the object's metadata)
    pins the manifest itself; without it a consistent rewrite of manifest and parts
    could only be caught by the minutes' and journal's own signatures.
    """
    directory = Path(directory)
    try:
        manifest_bytes = (directory / MANIFEST).read_bytes()
        manifest = json.loads(manifest_bytes)
    except (OSError, ValueError):
        return {"ok": False, "opened": True, "problems": [f"{MANIFEST}: missing or not JSON"]}
    files = {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}
    problems = []
    if canonical(manifest) != manifest_bytes:
        problems.append(f"{MANIFEST}: modified (not its canonical form)")
    problems += check_parts(manifest, files, box_key)
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    if manifest_sha256 is not None and digest != manifest_sha256:
        problems.insert(0, f"{MANIFEST}: hash differs from the signed envelope (modified)")
    return {"ok": not problems, "opened": True, "sitting": manifest.get("sitting", {}).get("id"),
            "manifest_sha256": digest, "problems": problems}


def open_archive(path: Path, private: X25519PrivateKey, out: Path) -> dict[str, Any]:
    """Decrypt into ``out`` (plain names only, nothing outside it), then verify what was written."""
    report = verify_file(path, private)
    if not report["ok"]:
        return report
    out = Path(out)
    for name, data in _members(path, private):
        if name.startswith("/") or ".." in Path(name).parts:
            continue
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dict(verify_dir(out, manifest_sha256=report["manifest_sha256"]), path=str(out))
