"""``phs sitting erase``: crypto-shred one sitting once its archive is safe upstream.

DESIGN: "Destroying a sitting key after a confirmed upstream receipt erases the
sitting". The steps, in an order that a crash at any point leaves safe:

1. refuse while a server runs on the data directory (its lock), without a recorded
   upstream receipt (unless ``--force``), and while the sitting is still open;
2. read from the journal, while the sitting's records still open, which documents go
   with it (``documents_going``);
3. append a ``sitting_erased`` record, sealed with the session key, so a replay closes
   the sitting and the name is never written to again;
4. destroy those documents' keys (``doc-<id>``, tombstone first) and shred their blob
   files: before the sitting key, so a crash here is finished by running erase again,
   which still reads step 2's answer from the same records;
5. shred the snapshots, which hold the sitting's state under the session key: the next
   start replays the journal, skipping the frames nobody can open any more (older ones
   were shredded, not just unlinked, as they were replaced: appliance/store/snapshots.py);
6. destroy the sitting's data key (tombstone first, then overwrite and unlink the wrapped
   key). Last, so a cut anywhere before it is finished by running erase again.

Other sittings, the session's registry and the other documents are untouched. A document
goes with the sitting when the sitting took up (opened) an agenda item the document
belongs to and no other sitting that is not erased took up any of its items, or when the
sitting's own records added it (a version replaced during the sitting vanishes with them).
Erasing the last sitting that is not erased takes every remaining document, and the
shared ``blobs`` key (documents stored before documents had keys). A sitting's finalised minutes
(``minutes-<id>``) and the archives it left in the outbox go with it. Kept
provisioning bundles (``bundle-<id>``) hold documents' originals: they go as soon as any
document does, so a rollback cannot bring an erased document back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.archive.after_sitting import outbox_dir
from appliance.core.clock import Clock
from appliance.core.errors import PhsError, refuse
from appliance.core.settings import Settings
from appliance.store import frames
from appliance.store.blobs import SHARED_KEY, BlobStore
from appliance.store.journal import Journal
from appliance.store.keys import (
    BUNDLE_PREFIX,
    DOCUMENT_PREFIX,
    Keyring,
    document_key_name,
    minutes_key_name,
    sitting_key_name,
)
from appliance.store.sealing import fsync_dir, shred_file
from appliance.web.tools import open_keyring, refusal_exit, writer_lock

log = logging.getLogger("phs.erase")

# Event types by which the sync program will record a confirmed upstream receipt.
RECEIPT_EVENTS = frozenset({"upstream_receipt", "archive_receipt"})


@dataclass
class SittingFacts:
    """What the readable journal says about the sittings and the documents (no content)."""

    known: set[str] = field(default_factory=set)
    status: dict[str, str] = field(default_factory=dict)
    receipts: set[str] = field(default_factory=set)
    current: set[str] = field(default_factory=set)  # sittings of the configuration in force
    opened: set[str] = field(default_factory=set)
    erasing: set[str] = field(default_factory=set)  # a ``sitting_erased`` record exists
    items: dict[str, set[str]] = field(default_factory=dict)  # sitting -> agenda item ids it took up
    doc_items: dict[str, set[str]] = field(default_factory=dict)  # document -> every item it was in
    doc_record: dict[str, str] = field(default_factory=dict)  # document -> key of the record that added it
    doc_blobs: dict[str, set[str]] = field(default_factory=dict)  # document -> blob ids the journal names


def read_facts(keyring: Keyring, journal_dir: Path) -> SittingFacts:
    """Sittings, their status, receipts and documents, from every record that can still be opened."""
    from appliance.archive.replay import read_rows

    facts = SittingFacts()
    agenda: list[str] = []  # item ids in agenda order: ``item_started`` names an item by its number
    for row in read_rows(journal_dir, keyring.existing_key):
        for event in (row.record or {}).get("events", []):
            kind, sid = event.get("type"), event.get("sitting_id")
            if kind == "session_set_up":
                facts.current = {str(pair[0]) for pair in event.get("sittings", [])}
                facts.known |= facts.current
            elif kind == "configuration_replaced":
                facts.current, agenda = set(), []
            elif kind == "agenda_item_added":
                agenda.append(str(event.get("id")))
            elif kind == "item_started" and isinstance(event.get("item"), int) and 1 <= event["item"] <= len(agenda):
                facts.items.setdefault(str(sid), set()).add(agenda[event["item"] - 1])
            elif kind in ("document_added", "document_moved"):
                doc = str(event.get("id"))
                facts.doc_items.setdefault(doc, set()).add(str(event.get("item_id")))
                if kind == "document_added":
                    facts.doc_record[doc] = row.key_id
                    _note_blobs(facts, doc, event)
            elif kind in ("document_pages_ready", "document_text_ready"):
                _note_blobs(facts, str(event.get("id")), event)
            elif kind == "sitting_opened":
                facts.status[str(sid)] = "open"
                facts.opened.add(str(sid))
            elif kind in ("sitting_closed", "sitting_erased"):
                facts.status[str(sid)] = "closed"
                if kind == "sitting_erased":
                    facts.erasing.add(str(sid))
            elif kind in RECEIPT_EVENTS:
                facts.receipts.add(str(sid))
    return facts


def _note_blobs(facts: SittingFacts, doc: str, event: dict[str, Any]) -> None:
    """The blob ids an event names for a document (pages, original, text, PDF)."""
    ids = {str(event.get(name) or "") for name in ("original_blob", "text_blob", "pdf_blob")}
    for pages in (event.get("blobs") or {}).values():
        ids |= {str(b) for b in pages or [] if b}
    facts.doc_blobs.setdefault(doc, set()).update(i for i in ids if i)


def others_alive(facts: SittingFacts, keyring: Keyring, sitting_id: str) -> set[str]:
    """The other sittings not erased (nor being erased) that can still take up items."""
    return {
        s
        for s in facts.known
        if s != sitting_id
        and s not in facts.erasing
        and not keyring.erased(sitting_key_name(s))
        and (s in facts.current or s in facts.opened)  # a planned sitting of a replaced configuration never opens
    }


def documents_going(facts: SittingFacts, sitting_id: str, alive: set[str]) -> set[str]:
    """The documents that go with ``sitting_id`` (the module docstring says which); all when none is ``alive``."""
    every = set(facts.doc_items) | set(facts.doc_record)
    if not alive:
        return every
    mine = facts.items.get(sitting_id, set())
    kept: set[str] = set().union(*(facts.items.get(s, set()) for s in alive))
    going = {d for d, items in facts.doc_items.items() if items & mine and not items & kept}
    return going | {d for d, key in facts.doc_record.items() if key == sitting_key_name(sitting_id)}


def _erase_documents(keyring: Keyring, data: Path, facts: SittingFacts, going: set[str], last: bool) -> dict[str, Any]:
    """Destroy the keys of ``going`` (and, for the last sitting, of every document and ``blobs``), then shred their blobs."""
    fresh = {d for d in going if not keyring.erased(document_key_name(d))}  # a rerun after a crash counts only the rest
    names = {document_key_name(d) for d in going}
    if last:  # documents no record names any more (an upload never added) and the shared key
        names |= {n for n in keyring.names() if n.startswith(DOCUMENT_PREFIX)} | {SHARED_KEY}
    if fresh or last:  # a kept provisioning bundle holds originals: its rollback would bring them back
        names |= {n for n in keyring.names() if n.startswith(BUNDLE_PREFIX)}
    wrapped = set(keyring.names())
    for name in sorted(names):
        if name in wrapped or not keyring.erased(name):
            keyring.erase(name, missing_ok=True)  # a tombstone even for a document stored before it had a key
    blobs = BlobStore(data / "blobs", keyring)
    shredded = blobs.shred_keys(names)
    # Blobs stored before documents had keys are sealed with "blobs": those the journal names
    # for a document that goes, and for none that stays, are shredded by id.
    kept: set[str] = set().union(*(ids for d, ids in facts.doc_blobs.items() if d not in going))
    legacy = set().union(*(facts.doc_blobs.get(d, set()) for d in going)) - kept
    shredded += blobs.shred(sorted(b for b in legacy if _is_legacy(blobs, b)))
    return {"documents_erased": len(fresh), "keys_erased": sorted(names), "blobs_shredded": shredded}


def _erase_minutes_and_outbox(keyring: Keyring, data: Path, sitting_id: str) -> int:
    """The sitting's minutes (their own key) and the archives it left in the outbox: how many files went.

    An outbox archive is sealed to the upstream archive key, which the box does not hold;
    once the sitting is erased it has nothing left to send, and a copy on the disk is a copy."""
    name = minutes_key_name(sitting_id)
    keyring.erase(name, missing_ok=True)
    shredded = BlobStore(data / "blobs", keyring).shred_keys({name})
    folder = outbox_dir(data)
    # Archive names are "<sitting id>-<hash>.phsa" (+ ".sha256"); sitting ids are plain ids.
    leftovers = sorted(folder.glob(f"{sitting_id}-*.phsa*")) if folder.is_dir() else []
    for path in leftovers:
        shred_file(path)
    if leftovers:
        fsync_dir(folder)
    return shredded + len(leftovers)


def _is_legacy(blobs: BlobStore, blob_id: str) -> bool:
    try:
        return blobs.key_name(blob_id) == SHARED_KEY
    except PhsError:  # not stored, or not a blob id
        return False


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
    alive = others_alive(facts, keyring, sitting_id)
    going = documents_going(facts, sitting_id, alive)  # read now: the sitting's records still open
    position = asyncio.run(_append_tombstone(keyring, data / "journal", sitting_id, force))
    documents = _erase_documents(keyring, data, facts, going, last=not alive)
    documents["blobs_shredded"] += _erase_minutes_and_outbox(keyring, data, sitting_id)
    # The snapshots before the key: a cut between the two leaves the key, so running erase
    # again finishes the job; the other way round it would answer "already erased" and leave
    # a snapshot that opens with the session key and holds the sitting's results.
    snapshots = sorted((data / "snapshots").glob("snapshot-*")) if (data / "snapshots").is_dir() else []
    for path in snapshots:
        shred_file(path)
    if snapshots:
        fsync_dir(data / "snapshots")
    keyring.erase(name)
    log.warning(
        "sitting erased",
        extra={"event": "sitting_erased", "position": position, "forced": force, "snapshots": len(snapshots),
               "documents": documents["documents_erased"], "blobs": documents["blobs_shredded"]},
    )
    from appliance.web.records import verify_data_dir

    report = verify_data_dir(keyring, data)
    return {
        "erased": sitting_id,
        "key": name,
        "forced": force,
        "position": position,
        "snapshots_removed": len(snapshots),
        **documents,
        "last_sitting": not alive,
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
    records, documents = body["shredded_records"], body["documents_erased"]
    sys.stdout.write(
        f"Đã xóa phiên họp: {records} bản ghi và {documents} tài liệu không còn đọc được / "
        f"sitting erased: {records} records and {documents} document{'' if documents == 1 else 's'} are now unreadable\n"
    )
    return 0
