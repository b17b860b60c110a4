"""One round of ``phs sync``: every archive in the outbox shipped, then its receipt reported.

An archive moves waiting -> uploading -> uploaded -> reported (``state.py``). Credentials
and a missing bucket stop the round with a clear error and no receipt; an uplink lost
mid-part leaves the upload id and the finished parts saved for the next round.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from appliance.core.errors import PhsError
from appliance.core.settings import Settings
from appliance.sync import state as sync_state
from appliance.sync.report import report_receipt
from appliance.sync.s3 import Shipper, SyncError

log = logging.getLogger("appliance.sync")

OUTBOX = Path("archive") / "outbox"
STOPPING = ("credentials", "bucket_missing")


def configured(settings: Settings) -> bool:
    """Whether an upstream store is set up at all (else the box exports to USB only)."""
    return bool(settings.s3_endpoint and settings.s3_bucket)


def endpoint_is_local(settings: Settings) -> bool:
    """An archive server on the hall's own network needs no default route to be reached."""
    host = urlparse(settings.s3_endpoint).hostname or ""
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        return False
    return address.is_loopback or address.is_private or address.is_link_local


def outbox(data_dir: Path) -> list[Path]:
    """Sealed archives the server left for shipping, oldest name first."""
    folder = Path(data_dir) / OUTBOX
    return sorted(folder.glob("*.phsa")) if folder.is_dir() else []


def sync_round(settings: Settings, *, shipper: Shipper | None = None,
               report: Callable[[Settings, dict[str, Any]], bool] = report_receipt) -> dict[str, Any]:
    """Ship what waits and report what was shipped; returns counts and the errors met."""
    data = settings.data_dir
    state = sync_state.load(data)
    summary: dict[str, Any] = {"shipped": 0, "present": 0, "reported": 0, "errors": []}
    files = outbox(data)
    if not files:
        return summary
    ship = shipper or Shipper(settings, lambda: sync_state.save(data, state), max_kbps=settings.s3_max_kbps)
    ship.save = lambda: sync_state.save(data, state)
    try:
        ship.check_bucket()
    except SyncError as err:
        summary["errors"].append(err.code)
        _fail_all(state, files, err)
        sync_state.save(data, state)
        log.error("sync cannot start", extra={"event": "sync_error", "code": err.code, "reason": str(err)})
        return summary
    for path in files:
        entry = state["archives"].setdefault(path.name, {"file": path.name, "state": "waiting"})
        if entry["state"] in ("waiting", "uploading", "failed"):
            try:
                receipt = ship.ship(path, entry)
            except SyncError as err:
                entry.update(error=err.code, message=str(err))
                if err.code != "unreachable":
                    entry["state"] = "failed"
                sync_state.save(data, state)
                summary["errors"].append(err.code)
                log.error("archive not shipped", extra={"event": "sync_error", "code": err.code, "reason": str(err)})
                if err.code in STOPPING or err.code == "unreachable":
                    break
                continue
            entry.update(receipt=receipt, error=None, message=None)
            summary["shipped" if receipt.pop("sent") else "present"] += 1
            sync_state.save(data, state)
        if entry["state"] == "uploaded":
            _report(settings, state, entry, summary, report)
    return summary


def _report(settings: Settings, state: dict[str, Any], entry: dict[str, Any], summary: dict[str, Any],
            report: Callable[[Settings, dict[str, Any]], bool]) -> None:
    body = {"sitting_id": entry["sitting"], "manifest_sha256": entry["manifest_sha256"], "target": "s3",
            "key": entry["receipt"]["key"], "checksum": entry["receipt"]["checksum"]}
    try:
        done = report(settings, body)
    except PhsError as err:
        entry.update(error="receipt_refused", message=err.code)
        done = False
    if done:
        entry["state"] = "reported"
        summary["reported"] += 1
        log.info("receipt recorded", extra={"event": "sync_reported", "manifest": entry["manifest_sha256"][:16]})
    sync_state.save(settings.data_dir, state)


def _fail_all(state: dict[str, Any], files: list[Path], err: SyncError) -> None:
    for path in files:
        entry = state["archives"].setdefault(path.name, {"file": path.name, "state": "waiting"})
        if entry["state"] not in ("uploaded", "reported"):
            entry.update(state="failed", error=err.code, message=str(err))
