"""Retention: a sitting's data key is destroyed once the archive confirmed it and the configured days passed.

The upstream receipt (S3 upload, or a USB receipt checked by its MAC) starts the clock;
``PHS_RETENTION_DAYS`` later the sitting is crypto-shredded exactly as ``phs sitting
erase`` does it (tombstone record, key destroyed, snapshots shredded). Erasing needs the
data directory to itself, so it runs when ``phs serve`` starts (every boot of the box)
and from ``phs archive retention --apply`` — never under a running server.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from appliance.archive.replay import read_rows, replay
from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.sync.status import retention_plan

log = logging.getLogger("phs.archive")


def plan(settings: Settings, keyring: Any) -> list[dict[str, Any]]:
    """Per sitting: receipts, when its key goes, whether it is gone (what the technician page shows)."""
    state = replay(read_rows(settings.data_dir / "journal", keyring.existing_key)).state
    return retention_plan(settings, state)


def due(rows: list[dict[str, Any]], now: float) -> list[str]:
    """Sittings whose retention ran out and whose key still exists."""
    return [p["sitting_id"] for p in rows if p["erase_after"] is not None and p["erase_after"] <= now and not p["erased"]]


def erase_due(settings: Settings, keyring: Any, now: float | None = None) -> list[dict[str, Any]]:
    """Crypto-shred every due sitting; refuses with ``conflict`` while a server holds the data directory."""
    from appliance.web.erase import _erase
    from appliance.web.tools import writer_lock

    done = []
    with writer_lock(settings.data_dir):
        for sitting_id in due(plan(settings, keyring), time.time() if now is None else now):
            body = _erase(settings, sitting_id, False)
            body["outbox_removed"] = _clear_outbox(settings, sitting_id)
            done.append(body)
            log.warning("retention: sitting erased", extra={"event": "retention_erased", "sitting": sitting_id})
    return done


def _clear_outbox(settings: Settings, sitting_id: str) -> int:
    """The sitting's sealed archives leave the outbox with it: the archive holds them, the box no longer needs them."""
    from appliance.archive.after_sitting import checksum_path, outbox_dir
    from appliance.archive.envelope import read_header

    removed = 0
    folder = outbox_dir(settings.data_dir)
    for path in sorted(folder.glob("*.phsa")) if folder.is_dir() else []:
        try:
            mine = read_header(path).get("sitting") == sitting_id
        except PhsError:
            continue
        if mine:
            checksum_path(path).unlink(missing_ok=True)
            path.unlink()
            removed += 1
    return removed


def erase_due_at_start(settings: Settings) -> int:
    """Before ``phs serve`` opens the data: erase what is due; never stops the box from starting."""
    if not (settings.data_dir / "journal").is_dir():
        return 0
    try:
        from appliance.web.tools import open_keyring

        keyring = open_keyring(settings)
    except PhsError:  # no key stick yet: the next start tries again
        log.debug("retention skipped: keys not available")
        return 0
    try:
        return len(erase_due(settings, keyring))
    except Exception:  # noqa: BLE001 - a damaged journal is `phs journal verify`'s job, not a reason to stay down
        log.exception("retention check failed; the box starts anyway")
        return 0
