"""Receipts: the archive side confirms it holds a sitting; the box records that in its journal.

Over S3 the receipt is the upload itself (``phs sync`` reports it). A USB stick carries
the archive one way and a receipt file back: ``phs archive receipt`` (archive side) MACs
it with a key only the box that sealed the envelope and the archive key holder can
derive, so a hand-written receipt cannot trigger the erasure of a sitting.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from appliance.archive.after_sitting import receipt_keys
from appliance.archive.check import verify_file
from appliance.archive.envelope import receipt_key, receipt_mac
from appliance.archive.replay import read_rows, replay
from appliance.core.clock import Clock
from appliance.core.errors import refuse
from appliance.core.settings import Settings
from appliance.meeting.decide import Command, decide
from appliance.meeting.roles import Actor
from appliance.store.frames import SESSION_KEY
from appliance.store.journal import Journal
from appliance.store.keys import Keyring

FORMAT = "phs-archive-receipt/1"
ARCHIVE_ACTOR = Actor("archive", "local", frozenset({"archive.manage"}))


def write_receipt(archive: Path, private: X25519PrivateKey) -> dict[str, Any]:
    """Archive side: verify the archive fully, then the MACed receipt for the box."""
    report = verify_file(archive, private)
    if not report["ok"]:
        raise refuse("invalid", "Tệp lưu trữ không toàn vẹn; không cấp biên nhận.",
                     "The archive does not verify; no receipt: " + "; ".join(report["problems"]))
    body: dict[str, Any] = {"format": FORMAT, "sitting_id": report["sitting"], "manifest_sha256": report["manifest_sha256"],
                            "file": Path(archive).name, "received_at": round(time.time(), 3)}
    body["mac"] = receipt_mac(receipt_key(archive, private), body)
    return body


def check_receipt(data_dir: Path, keyring: Keyring, receipt: dict[str, Any]) -> dict[str, Any]:
    """Box side: the record ``record_archive_receipt`` takes, once the MAC matches a build of ours."""
    manifest = str(receipt.get("manifest_sha256", ""))
    if receipt.get("format") != FORMAT or len(manifest) != 64:
        raise refuse("invalid", "Đây không phải biên nhận lưu trữ PHS.", "This is not a PHS archive receipt.")
    mac = str(receipt.get("mac", ""))
    # Bytes, not str: compare_digest refuses non-ASCII text, and a hostile receipt may carry it.
    if not any(hmac.compare_digest(receipt_mac(key, receipt).encode(), mac.encode())
               for key in receipt_keys(data_dir, keyring, manifest)):
        raise refuse("forbidden", "Biên nhận không khớp với tệp lưu trữ nào của hộp này.",
                     "The receipt matches no archive this box exported.")
    return {"sitting_id": receipt.get("sitting_id"), "manifest_sha256": manifest, "target": "usb",
            "key": str(receipt.get("file", ""))[:500] or "usb", "checksum": "mac:" + mac[:32]}


def record_offline(settings: Settings, keyring: Keyring, args: dict[str, Any]) -> int:
    """Append the receipt directly while no server runs (the caller holds the writer lock)."""
    rows = read_rows(settings.data_dir / "journal", keyring.existing_key)
    state = replay(rows).state
    now = Clock().now()
    events = decide(state, ARCHIVE_ACTOR, Command("record_archive_receipt", args), now)
    if not events:
        return state.position

    async def append() -> int:
        journal = await Journal.open(settings.data_dir / "journal", keyring.data_key(SESSION_KEY),
                                     keys=keyring.existing_key, identity=keyring.identity())
        try:
            record = {"events": [e.to_dict() for e in events], "wall": now.wall, "mono": now.mono,
                      "actor": None, "device": "cli"}
            return await journal.append(record)
        finally:
            await journal.close()

    return asyncio.run(append())


def load_receipt(path: Path) -> dict[str, Any]:
    """A receipt file from a stick."""
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        raise refuse("invalid", "Không đọc được tệp biên nhận.", f"Cannot read the receipt file {path}.") from None
    if not isinstance(body, dict):
        raise refuse("invalid", "Không đọc được tệp biên nhận.", "A receipt is a JSON object.")
    return body
