"""``phs sitting erase``: crypto-shred one sitting once its archive is safe upstream.

DESIGN: "Destroying a sitting key after a confirmed upstream receipt erases the
sitting". The steps, in an order that a crash at any point leaves safe:

1. refuse while a server runs on the data directory (its lock), without a recorded
   upstream receipt (unless ``--force``), and while the sitting is still open;
2. append a ``sitting_erased`` record, sealed with the session key, so a replay closes
   the sitting and the name is never written to again;
3. destroy the data key (tombstone first, then overwrite and unlink the wrapped key);
4. shred the snapshots, which hold the sitting's state under the session key: the next
   start replays the journal, skipping the frames nobody can open any more.

Other sittings, the session's registry and the documents (``blobs`` key) are untouched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.core.clock import Clock
from appliance.core.errors import PhsError, refuse
from appliance.core.settings import Settings
from appliance.store import frames
from appliance.store.journal import Journal
from appliance.store.keys import Keyring, sitting_key_name
from appliance.store.sealing import fsync_dir
from appliance.web.tools import open_keyring, refusal_exit, writer_lock

log = logging.getLogger("phs.erase")

# Event types by which the sync program will record a confirmed upstream receipt.
RECEIPT_EVENTS = frozenset({"upstream_receipt", "archive_receipt"})


@dataclass
class SittingFacts:
    """What the readable journal says about the sittings (no content)."""

    known: set[str] = field(default_factory=set)
    status: dict[str, str] = field(default_factory=dict)
    receipts: set[str] = field(default_factory=set)


def read_facts(keyring: Keyring, journal_dir: Path) -> SittingFacts:
    """Sittings, their status and receipts, from every record that can still be opened."""
    facts = SittingFacts()
    segments = [(p, p.stat().st_size) for p in frames.list_segments(journal_dir)]
    try:
        for _, record in frames.iter_records(keyring.existing_key, segments, 0):
            for event in record.get("events", []):
                kind, sid = event.get("type"), event.get("sitting_id")
                if kind == "session_set_up":
                    facts.known |= {str(pair[0]) for pair in event.get("sittings", [])}
                elif kind == "sitting_opened":
                    facts.status[str(sid)] = "open"
                elif kind in ("sitting_closed", "sitting_erased"):
                    facts.status[str(sid)] = "closed"
                elif kind in RECEIPT_EVENTS:
                    facts.receipts.add(str(sid))
    except (frames.BadFrame, ValueError):
        raise refuse(
            "internal",
            "Nhật ký bị hỏng; hãy chạy `phs journal verify` trước.",
            "The journal is damaged; run `phs journal verify` first.",
        ) from None
    return facts


def _shred_file(path: Path) -> None:
    """Overwrite then unlink (best effort on flash; the sealed content is useless without keys anyway)."""
    size = path.stat().st_size
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, secrets.token_bytes(size))
        os.fsync(fd)
    finally:
        os.close(fd)
    path.unlink()


async def _append_tombstone(keyring: Keyring, journal_dir: Path, sitting_id: str, forced: bool) -> int:
    from appliance.meeting.sitting_record import SittingErased

    now = Clock().now()
    journal = await Journal.open(
        journal_dir,
        keyring.data_key(frames.SESSION_KEY),
        keys=keyring.existing_key,
        identity=keyring.identity(),
    )
    try:
        record = {
            "events": [SittingErased(sitting_id, now.wall, forced).to_dict()],
            "wall": now.wall,
            "mono": now.mono,
            "actor": None,
            "device": "cli",
        }
        return await journal.append(record)
    finally:
        await journal.close()


def _erase(settings: Settings, sitting_id: str, force: bool) -> dict[str, Any]:
    data = settings.data_dir
    keyring = open_keyring(settings)
    name = sitting_key_name(sitting_id)
    facts = read_facts(keyring, data / "journal")
    if sitting_id not in facts.known:
        raise refuse("not_found", "Không có phiên họp này.", f"No sitting {sitting_id!r} in this data.")
    if keyring.erased(name):
        raise refuse("conflict", "Phiên họp này đã bị xóa.", "This sitting was already erased.")
    if sitting_id not in facts.receipts and not force:
        raise refuse(
            "conflict",
            "Chưa ghi nhận biên nhận lưu trữ từ cấp trên cho phiên họp này, nên không xóa. "
            "(--force xóa mà không cần biên nhận.)",
            "No upstream receipt is recorded for this sitting, so it is not erased. "
            "(--force erases without a receipt.)",
        )
    if facts.status.get(sitting_id) == "open":
        raise refuse("conflict", "Phiên họp đang mở; hãy bế mạc trước.", "The sitting is open; close it first.")
    if name not in keyring.names():
        raise refuse(
            "not_found",
            "Phiên họp này không có bản ghi riêng để xóa.",
            "This sitting has no records of its own to erase.",
        )
    position = asyncio.run(_append_tombstone(keyring, data / "journal", sitting_id, force))
    keyring.erase(name)
    snapshots = sorted((data / "snapshots").glob("snapshot-*")) if (data / "snapshots").is_dir() else []
    for path in snapshots:
        _shred_file(path)
    if snapshots:
        fsync_dir(data / "snapshots")
    log.warning(
        "sitting erased",
        extra={"event": "sitting_erased", "position": position, "forced": force, "snapshots": len(snapshots)},
    )
    from appliance.web.records import verify_data_dir

    report = verify_data_dir(keyring, data)
    return {
        "erased": sitting_id,
        "key": name,
        "forced": force,
        "position": position,
        "snapshots_removed": len(snapshots),
        "shredded_records": report.shredded,
        "journal_ok": report.ok,
    }


def sitting_erase(settings: Settings, sitting_id: str, force: bool) -> int:
    """``phs sitting erase ID``: 0 when erased; non-zero with a bilingual reason otherwise."""
    try:
        with writer_lock(settings.data_dir):
            body = _erase(settings, sitting_id, force)
    except PhsError as err:
        return refusal_exit(err)
    sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.write(
        f"Đã xóa phiên họp / sitting erased: {body['shredded_records']} records are now unreadable\n"
    )
    return 0
