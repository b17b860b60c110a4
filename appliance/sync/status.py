"""What the technician page shows about archives: sync progress, receipts and retention.

Ids, sizes, states and times only — never a title, a name or a document's text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appliance.core.settings import Settings
from appliance.meeting.model import SessionState
from appliance.sync import state as sync_state
from appliance.sync.rounds import configured, outbox

DAY = 86400.0


def retention_plan(settings: Settings, state: SessionState) -> list[dict[str, Any]]:
    """Per sitting: finalised or not, receipts, and when its data key is due to be destroyed."""
    plan = []
    for sitting in state.sittings:
        book = state.minutes.get(sitting.id)
        receipts = book.receipts if book else []
        first = min((r.at for r in receipts), default=None)
        erased = (Path(settings.data_dir) / "keys" / f"sitting-{sitting.id}.erased").exists()
        plan.append({
            "sitting_id": sitting.id,
            "status": sitting.status,
            "finalised": bool(book and book.final),
            "receipts": [{"target": r.target, "at": r.at} for r in receipts],
            "erase_after": None if first is None else first + settings.retention_days * DAY,
            "erased": erased,
        })
    return plan


def technician_status(settings: Settings, state: SessionState) -> dict[str, Any]:
    """The body of ``GET /api/archive/status``."""
    whole = sync_state.load(settings.data_dir)
    saved = whole["archives"]
    archives = []
    for path in outbox(settings.data_dir):
        entry = saved.get(path.name, {})
        archives.append({
            "file": path.name,
            "size": path.stat().st_size,
            "state": entry.get("state", "waiting"),
            "sent_bytes": entry.get("sent_bytes", 0),
            "error": entry.get("error"),
        })
    return {
        "upstream_configured": configured(settings),
        "archive_key_configured": bool(settings.archive_public_key),
        "retention_days": settings.retention_days,
        "uplink": whole.get("uplink"),  # {"up", "at"}: what phs sync last saw (None: it has not run)
        "last_round": whole.get("last_round"),  # {"at", "shipped", "present", "reported", "errors"}
        "archives": archives,
        "sittings": retention_plan(settings, state),
    }
