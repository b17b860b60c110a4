"""Sealed, versioned snapshots of projection state, each naming the journal position it covers.

Each snapshot is a TinyDB database on ``SealedStorage`` (one sealed file, written once and
atomically through TinyDB's caching middleware): a ``meta`` table with the format version
and position, and a ``projections`` table with one document per projection (participants,
documents, polls, ...). So the registry and the projections are TinyDB tables on disk, and
nothing of them is readable without the sitting's data key.

Start-up loads the newest snapshot that opens, then replays the journal after its
position. A file that cannot be decoded is renamed aside (``.corrupt-<timestamp>``) and
logged, and loading falls back to the previous one: the box keeps starting. A caller that
finds a snapshot opens but no longer fits its model sets it aside the same way
(``set_aside``) and loads again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.middlewares import CachingMiddleware

from .sealed import SealedStorage, Undecodable
from .sealing import fsync_dir, shred_file

log = logging.getLogger(__name__)

PREFIX = "snapshot-"
SUFFIX = ".sealed"
KEEP = 2
CONTEXT = b"phs-snapshot"

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _position(path: Path) -> int | None:
    middle = path.name[len(PREFIX) : -len(SUFFIX)]
    if path.name.startswith(PREFIX) and path.name.endswith(SUFFIX) and middle.isdigit():
        return int(middle)
    return None


class Snapshots:
    """Keeps the last two snapshots of a sitting's projections, sealed with its data key."""

    def __init__(
        self,
        directory: Path,
        key: bytes,
        *,
        version: int = 1,
        migrations: Mapping[int, Migration] | None = None,
    ) -> None:
        self._dir = Path(directory)
        self._key = key
        self._version = version
        self._migrations = dict(migrations or {})  # from version v to v + 1

    def _files(self) -> list[tuple[int, Path]]:
        if not self._dir.exists():
            return []
        found = ((_position(p), p) for p in self._dir.iterdir())
        return sorted(((pos, p) for pos, p in found if pos is not None), reverse=True)

    def save(self, position: int, state: dict[str, Any]) -> None:
        """Seal ``state`` as of journal ``position`` atomically, then keep only the newest two."""
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_db(self._dir / f"{PREFIX}{position:012d}{SUFFIX}", self._key, self._version, position, state)
        stale = self._files()[KEEP:]
        for _, path in stale:
            # Overwritten, not just unlinked: an old snapshot holds a sitting's state under the
            # session key, which outlives ``phs sitting erase`` (it shreds the current ones).
            with contextlib.suppress(FileNotFoundError):
                shred_file(path)
        if stale:
            fsync_dir(self._dir)
        log.info("snapshot saved", extra={"event": "snapshot_saved", "position": position})

    def load(self) -> tuple[int, dict[str, Any]] | None:
        """The newest snapshot that opens and migrates, as (position, state); None if there is none."""
        for position, path in self._files():
            try:
                body = _read_db(path, self._key)
                version, state = body["version"], body["state"]
                if (
                    body["position"] != position
                    or not isinstance(state, dict)
                    or not isinstance(version, int)
                ):
                    raise Undecodable(message_en="Snapshot contents do not match its name.")
            except (Undecodable, KeyError, TypeError):
                self._set_aside(path, position, "undecodable")
                continue
            except OSError as exc:
                log.error(
                    "snapshot unreadable",
                    extra={
                        "event": "snapshot_unreadable",
                        "position": position,
                        "error": type(exc).__name__,
                    },
                )
                continue
            migrated = self._migrate(version, state, position)
            if migrated is not None:
                return position, migrated
        return None

    def _migrate(self, version: int, state: dict[str, Any], position: int) -> dict[str, Any] | None:
        extra = {"event": "snapshot_skipped", "position": position, "version": version}
        if version > self._version:
            log.error("snapshot written by newer software; skipped", extra=extra)
            return None
        try:
            while version < self._version:
                state = self._migrations[version](state)
                version += 1
        except Exception as exc:  # a migration bug must not stop the box; the journal replays
            log.error(
                "snapshot migration failed; skipped", extra={**extra, "error": type(exc).__name__}
            )
            return None
        return state

    def set_aside(self, position: int, reason: str) -> None:
        """Rename the snapshot of ``position`` aside, so the next ``load`` falls back to an older one."""
        path = self._dir / f"{PREFIX}{position:012d}{SUFFIX}"
        if path.exists():
            self._set_aside(path, position, reason)

    def _set_aside(self, path: Path, position: int, reason: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
            n += 1
        os.replace(path, target)
        fsync_dir(self._dir)
        log.warning(
            "snapshot set aside",
            extra={
                "event": "snapshot_corrupt",
                "position": position,
                "reason": reason,
                "moved_to": target.name,
            },
        )


def _open(path: Path, key: bytes) -> TinyDB:
    # Caching: TinyDB writes its whole file on every insert; here it writes once, on close.
    middleware = CachingMiddleware(SealedStorage)  # type: ignore[no-untyped-call]
    middleware.WRITE_CACHE_SIZE = 1 << 30
    return TinyDB(path, key, CONTEXT, storage=middleware)


def _write_db(path: Path, key: bytes, version: int, position: int, state: dict[str, Any]) -> None:
    """One snapshot as a fresh TinyDB database, flushed as one sealed atomic write."""
    # A fresh file: TinyDB appends to what it finds, and a position saved twice must not.
    tmp = path.with_name(path.name + ".new")
    tmp.unlink(missing_ok=True)
    db = _open(tmp, key)
    try:
        db.table("meta").insert({"version": version, "position": position})
        db.table("projections").insert_multiple({"name": name, "value": value} for name, value in state.items())
    finally:
        db.close()
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _read_db(path: Path, key: bytes) -> dict[str, Any]:
    """The snapshot's version, position and state; Undecodable when it is not one of ours."""
    if path.stat().st_size == 0:
        raise Undecodable(message_en="An empty snapshot file.")
    db = _open(path, key)
    try:
        meta = db.table("meta").all()
        rows = db.table("projections").all()
    finally:
        db.close()  # nothing changed, so the caching middleware writes nothing back
    if len(meta) != 1 or any(not isinstance(r.get("name"), str) or "value" not in r for r in rows):
        raise Undecodable(message_en="Snapshot tables are not as written.")
    return {"version": meta[0].get("version"), "position": meta[0].get("position"),
            "state": {r["name"]: r["value"] for r in rows}}
