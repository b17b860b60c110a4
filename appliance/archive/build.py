"""Build one sitting's sealed archive from the data directory, reading and never writing it.

Inside the envelope is a tar with sorted entries and fixed times (the finalisation's),
so the same sitting always gives the same bytes and the same manifest hash — the name
upstream idempotency uses — while the envelope around it differs per build.

What goes in: the journal records of the sitting (the session's registry records and the
sitting's own, up to the record that finalised its minutes), the finalised minutes
(PDF, DOCX, detached signature), the agenda's documents as uploaded, and the results.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.archive.after_sitting import final_signature
from appliance.archive.envelope import SealingWriter, canonical
from appliance.archive.replay import Row, read_rows, replay
from appliance.core.errors import refuse
from appliance.store.blobs import BlobStore
from appliance.store.frames import SESSION_KEY
from appliance.store.keys import Keyring, document_key_name, sitting_key_name
from appliance.store.sealing import fsync_dir

MANIFEST = "manifest.json"
FORMAT = "phs-archive-manifest/1"


@dataclass(frozen=True)
class Part:
    """One file of the archive; ``load`` reads it on demand so 200 MB of documents never sit in memory together."""

    path: str
    load: Callable[[], bytes]


@dataclass(frozen=True)
class Built:
    """What a build produced: where, how big, and the names that identify it."""

    path: Path
    sitting: str
    manifest_sha256: str
    size: int
    receipt_key: bytes
    sha256: str  # of the whole envelope file: sync sends it as the object's checksum without reading the file twice


def _finalised_at(rows: list[Row], sitting_id: str) -> int:
    for row in rows:
        for body in (row.record or {}).get("events", []):
            if body.get("type") == "minutes_finalised" and body.get("sitting_id") == sitting_id:
                return row.position
    raise refuse(
        "conflict",
        "Biên bản phiên họp chưa hoàn thành: chưa đóng gói lưu trữ được.",
        "The sitting's minutes are not finalised yet, so there is nothing to archive.",
    )


def _ext(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".bin"


def collect(data_dir: Path, keyring: Keyring, sitting_id: str) -> tuple[dict[str, Any], list[Part]]:
    """The manifest (without itself) and the parts of a sitting's archive, in archive order."""
    rows = read_rows(data_dir / "journal", keyring.existing_key)
    cut = _finalised_at(rows, sitting_id)
    state = replay(rows, upto=cut).state
    book = state.minutes[sitting_id]
    final = book.final
    assert final is not None
    keys = {SESSION_KEY, sitting_key_name(sitting_id)}
    kept = [r for r in rows if r.position <= cut and r.checkpoint is None and r.key_id in keys and r.record is not None]
    journal = b"".join(
        canonical({"position": r.position, "key": r.key_id, "hash": r.frame_hash, "record": r.record}) + b"\n"
        for r in kept
    )
    blobs = BlobStore(data_dir / "blobs", keyring)
    sig = final_signature(final)
    parts = [
        Part("journal/records.jsonl", lambda: journal),
        Part("minutes/minutes.docx", lambda: blobs.get(final.docx_blob)),
        Part("minutes/minutes.pdf", lambda: blobs.get(final.pdf_blob)),
        Part("minutes/minutes.pdf.sig", lambda: sig),
    ]
    for doc in sorted(state.documents.values(), key=lambda d: d.id):
        blob = doc.original_blob
        if blob and not keyring.erased(document_key_name(doc.id)):  # one erased with another sitting is left out
            parts.append(Part(f"documents/{doc.id}{_ext(doc.filename)}", _loader(blobs, blob)))
    polls = sorted((p for p in state.polls.values() if p.sitting_id == sitting_id), key=lambda p: (p.opened_at, p.id))
    results = [
        {"id": p.id, "item": p.item, "question": p.spec.get("question"), "method": p.spec.get("method"),
         "kind": p.spec.get("kind"), "rule": p.spec.get("rule"), "result": p.result, "annulled": p.annulled}
        for p in polls
    ]
    parts.append(Part("results/polls.json", lambda: canonical(results)))
    parts.sort(key=lambda p: p.path)
    checkpoints = [r.checkpoint | {"position": r.position} for r in rows if r.checkpoint and r.position <= cut]
    chain = next(r.frame_hash for r in rows if r.position == cut and r.checkpoint is None)
    sitting = next(s for s in state.sittings if s.id == sitting_id)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "sitting": {"id": sitting_id, "opened_at": sitting.opened_at, "closed_at": sitting.closed_at},
        "journal": {"cut": cut, "chain": chain, "records": len(kept), "keys": sorted(keys), "checkpoints": checkpoints},
        "minutes": {"pdf_sha256": final.pdf_sha256, "docx_sha256": final.docx_sha256, "finalised_at": final.at},
        "parts": [],
    }
    for part in parts:
        data = part.load()
        manifest["parts"].append({"path": part.path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    return manifest, parts


def _loader(blobs: BlobStore, blob: str) -> Callable[[], bytes]:
    return lambda: blobs.get(blob)


def _tar_entry(name: str, size: int, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, mtime, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def build_archive(data_dir: Path, keyring: Keyring, sitting_id: str, recipient: bytes, out: Path) -> Built:
    """Write the sealed archive of ``sitting_id`` to ``out`` (atomically); the journal is only read."""
    manifest, parts = collect(Path(data_dir), keyring, sitting_id)
    manifest_bytes = canonical(manifest)
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    mtime = int(manifest["minutes"]["finalised_at"])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    header = {"format": "phs-archive-envelope/1", "sitting": sitting_id, "manifest_sha256": digest, "manifest": manifest}
    with tmp.open("wb") as fh:
        writer = SealingWriter(fh, header, recipient, keyring.identity())
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.USTAR_FORMAT) as tar:  # type: ignore[call-overload]
            tar.addfile(_tar_entry(MANIFEST, len(manifest_bytes), mtime), _Reader(manifest_bytes))
            for part, entry in zip(parts, manifest["parts"], strict=True):
                data = part.load()
                if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                    raise refuse("conflict", message_en=f"{part.path} changed while the archive was built")
                tar.addfile(_tar_entry(part.path, len(data), mtime), _Reader(data))
        writer.close()
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    fsync_dir(out.parent)
    return Built(out, sitting_id, digest, writer.size, writer.receipt_key, writer.file_sha256)


class _Reader:
    """Just enough of a file for ``tarfile.addfile`` without copying the bytes again."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._view) if n < 0 else min(len(self._view), self._at + n)
        chunk = bytes(self._view[self._at : end])
        self._at = end
        return chunk
