"""What the server does after a sitting: draft and finalise its minutes, seal its archive.

Called by the minutes controller with the running ``Appliance``; the minutes are rebuilt
from the journal files (read-only replay), never from the server's live state. The slow
parts (replay, layout, the archive) run in a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from appliance.archive.minutes_content import build_minutes
from appliance.archive.minutes_render import render_docx, render_pdf
from appliance.archive.replay import read_rows, replay
from appliance.archive.signing import NoToken, SigningToken, sign_minutes
from appliance.core.errors import refuse
from appliance.meeting.decide import Command
from appliance.store.keys import Keyring, minutes_key_name
from appliance.store.sealing import atomic_write, seal, unseal

log = logging.getLogger("phs.archive")

OUTBOX = Path("archive") / "outbox"
RECEIPT_KEYS = Path("archive") / "receipt-keys"


def draft(data_dir: Path, keyring: Keyring, sitting_id: str) -> tuple[bytes, bytes, int]:
    """(PDF, DOCX, journal position) of the minutes as the journal stands now."""
    rows = read_rows(Path(data_dir) / "journal", keyring.existing_key)
    played = replay(rows)
    minutes = build_minutes(played, sitting_id)
    return render_pdf(minutes), render_docx(minutes), played.state.position


def outbox_path(data_dir: Path, sitting_id: str, manifest_sha256: str) -> Path:
    """Where the server leaves a sealed archive for ``phs sync``."""
    return Path(data_dir) / OUTBOX / f"{sitting_id}-{manifest_sha256[:16]}.phsa"


def outbox_dir(data_dir: Path) -> Path:
    """The folder ``phs sync`` and ``phs devices`` take sealed archives from."""
    return Path(data_dir) / OUTBOX


def checksum_path(archive: Path) -> Path:
    """The SHA-256 sidecar of an outbox archive (``phs sync`` checks it while it uploads)."""
    return archive.with_name(archive.name + ".sha256")


def pending_exports(data_dir: Path, state: Any) -> list[dict[str, Any]]:
    """Outbox archives whose manifest no receipt confirms yet (what a USB export still has to carry)."""
    from appliance.archive.envelope import read_header

    confirmed = {r.manifest_sha256 for book in state.minutes.values() for r in book.receipts}
    out = []
    folder = outbox_dir(data_dir)
    for path in sorted(folder.glob("*.phsa")) if folder.is_dir() else []:
        try:
            header = read_header(path)
        except Exception:  # noqa: BLE001 - a half-written or foreign file is not offered
            continue
        if header.get("manifest_sha256") not in confirmed:
            out.append({"file": path.name, "size": path.stat().st_size, "sitting": header.get("sitting"),
                        "manifest_sha256": header.get("manifest_sha256")})
    return out


def remember_receipt_key(data_dir: Path, keyring: Keyring, manifest_sha256: str, key: bytes) -> None:
    """Keep the key a USB receipt for this archive is MACed with, sealed like everything else."""
    tag = hashlib.sha256(key).hexdigest()[:8]  # several builds of one content each keep theirs
    path = Path(data_dir) / RECEIPT_KEYS / f"{manifest_sha256}-{tag}.sealed"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, seal(keyring.data_key("archive"), key, b"phs-receipt:" + manifest_sha256.encode()))


def receipt_keys(data_dir: Path, keyring: Keyring, manifest_sha256: str) -> list[bytes]:
    """Every receipt key kept for a manifest (one per build of the same content)."""
    folder = Path(data_dir) / RECEIPT_KEYS
    found = []
    for path in sorted(folder.glob(f"{manifest_sha256}*.sealed")):
        found.append(unseal(keyring.data_key("archive"), path.read_bytes(), b"phs-receipt:" + manifest_sha256.encode()))
    return found


def seal_for_upstream(data_dir: Path, keyring: Keyring, sitting_id: str, recipient: bytes, out: Path | None = None) -> dict[str, Any]:
    """Build the sealed archive (into the outbox unless ``out``) and keep its receipt key."""
    from appliance.archive.build import build_archive

    tmp = out or Path(data_dir) / OUTBOX / f".{sitting_id}.building"
    built = build_archive(data_dir, keyring, sitting_id, recipient, tmp)
    path = built.path
    if out is None:
        path = outbox_path(data_dir, sitting_id, built.manifest_sha256)
        atomic_write(checksum_path(path), built.sha256.encode() + b"\n")  # before the archive shows up
        tmp.replace(path)
    remember_receipt_key(data_dir, keyring, built.manifest_sha256, built.receipt_key)
    log.info("archive sealed", extra={"event": "archive_sealed", "bytes": built.size, "manifest": built.manifest_sha256[:16]})
    return {"path": str(path), "manifest_sha256": built.manifest_sha256, "size": built.size}


def configured_token(settings: Any, pin: str | None) -> SigningToken | None:
    """The secretary's PKCS#11 token when ``PHS_TOKEN_LIBRARY`` names one (the PIN is used once, never kept)."""
    library = getattr(settings, "token_library", "")
    if not library:
        return None
    from appliance.archive.pkcs11_token import Pkcs11Token

    return Pkcs11Token(library, pin or None, token_label=getattr(settings, "token_label", "") or None)


async def finalise(appliance: Any, actor: Any, sitting_id: str, device: str, token: SigningToken | None = None,
                   pin: str | None = None) -> dict[str, Any]:
    """Freeze the minutes: generate from the journal, sign, store sealed, record the hashes."""
    data, keyring = appliance.settings.data_dir, appliance.keyring
    sitting = next((s for s in appliance.state.sittings if s.id == sitting_id), None)
    if sitting is None:
        raise refuse("not_found", "Không có phiên họp này.", "No such sitting.")
    book = appliance.state.minutes.get(sitting_id)
    if sitting.status != "closed" or (book is not None and book.final is not None):
        # The rule refuses these too; asking first keeps unused files out of the blob store.
        from appliance.meeting.minutes import refusal_before_finalising

        raise refusal_before_finalising(sitting.status != "closed")
    pdf, docx_bytes, cut = await asyncio.to_thread(draft, data, keyring, sitting_id)
    digest, signature, public = sign_minutes(keyring.identity(), pdf)
    # A second signature where a secretary's token adapter is configured (signing.py).
    signer = token or configured_token(appliance.settings, pin) or getattr(appliance, "signing_token", None) or NoToken()
    signed = await asyncio.to_thread(signer.sign, bytes.fromhex(digest))
    args: dict[str, Any] = {
        "sitting_id": sitting_id,
        "pdf_sha256": digest,
        "docx_sha256": hashlib.sha256(docx_bytes).hexdigest(),
        # Sealed with the sitting's own minutes key: `phs sitting erase` takes them with it.
        "pdf_blob": appliance.blobs.put(pdf, key_name=minutes_key_name(sitting_id)),
        "docx_blob": appliance.blobs.put(docx_bytes, key_name=minutes_key_name(sitting_id)),
        "signature": signature,
        "public_key": public,
        "cut": cut,
    }
    if signed is not None:
        args["token"] = [signed.mechanism, signed.signature, signed.certificate]
    outcome = await appliance.execute(actor, Command("finalise_minutes", args), device=device)
    result: dict[str, Any] = {"finalised": True, "pdf_sha256": digest, "position": outcome["position"], "archive": None}
    recipient = getattr(appliance.settings, "archive_public_key", "")
    if recipient:
        from appliance.archive.envelope import load_public

        result["archive"] = await asyncio.to_thread(seal_for_upstream, data, keyring, sitting_id, load_public(recipient))
    return result


def final_files(appliance: Any, sitting_id: str) -> dict[str, bytes]:
    """The frozen PDF, DOCX and signature file of a finalised sitting."""
    book = appliance.state.minutes.get(sitting_id)
    if book is None or book.final is None:
        raise refuse("not_found", "Biên bản chưa hoàn thành.", "The minutes are not finalised.")
    f = book.final
    return {
        "pdf": appliance.blobs.get(f.pdf_blob),
        "docx": appliance.blobs.get(f.docx_blob),
        "sig": final_signature(f),
    }


def final_signature(final: Any) -> bytes:
    """The detached ``minutes.pdf.sig`` of frozen minutes (with the token's signature, if any)."""
    from appliance.archive.signing import TokenSignature, signature_file

    token = TokenSignature(*final.token) if final.token else None
    return signature_file(final.pdf_sha256, final.signature, final.public_key, token)


def status(appliance: Any, sitting_id: str) -> dict[str, Any]:
    """The minutes' state for the secretary's screen (no document text)."""
    if not any(s.id == sitting_id for s in appliance.state.sittings):
        raise refuse("not_found", "Không có phiên họp này.", "No such sitting.")
    book = appliance.state.minutes.get(sitting_id)
    token = bool(getattr(appliance.settings, "token_library", ""))  # the screen then asks for the token's PIN
    if book is None:
        return {"sitting_id": sitting_id, "conclusions": "", "place": "", "absences": {}, "final": None, "receipts": [],
                "token": token}
    body: dict[str, Any] = json.loads(book.model_dump_json())
    return body | {"sitting_id": sitting_id, "token": token}
