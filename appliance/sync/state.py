"""``DATA/sync/state.json``: what ``phs sync`` has shipped, so a power cut costs one part at most.

Written atomically (tmp, fsync, rename, directory fsync) after every part. Versioned; a
file that cannot be decoded is renamed aside with a timestamp and sync starts over for
those archives (HEAD first, so nothing already upstream is sent again).
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("appliance.sync")

VERSION = 1
STATE_FILE = Path("sync") / "state.json"
# Life of one archive: waiting -> uploading -> uploaded -> reported; failed keeps the reason.
STATES = ("waiting", "uploading", "uploaded", "reported", "failed")


def state_path(data_dir: Path) -> Path:
    """Where the sync state lives."""
    return Path(data_dir) / STATE_FILE


def load(data_dir: Path) -> dict[str, Any]:
    """The saved state, or a fresh one (a broken file is set aside, never trusted)."""
    path = state_path(data_dir)
    try:
        body = json.loads(path.read_text())
        if isinstance(body, dict) and body.get("version") == VERSION and isinstance(body.get("archives"), dict):
            return body
        raise ValueError("unknown version")
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        aside = path.with_name(f"state.json.broken-{int(time.time())}")
        path.replace(aside)
        log.warning("sync state unreadable, set aside", extra={"event": "sync_state_aside", "file": aside.name})
    return {"version": VERSION, "archives": {}}


def save(data_dir: Path, state: dict[str, Any]) -> None:
    """Replace the state file so a crash leaves the old or the new one whole."""
    path = state_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".state.json.{os.getpid()}.tmp")
    with tmp.open("w") as fh:
        json.dump(state, fh, sort_keys=True, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def note(data_dir: Path, **fields: Any) -> None:
    """Record what the program saw (``uplink``, ``last_round``) for the technician page."""
    state = load(data_dir)
    state.update(fields)
    save(data_dir, state)
