"""Sealed, versioned snapshots of projection state, each naming the journal position it covers.

Start-up loads the newest snapshot that opens, then replays the journal after its
position. A file that cannot be decoded is renamed aside (``.corrupt-<timestamp>``) and
logged, and loading falls back to the previous one: the box keeps starting. A caller that
finds a snapshot opens but no longer fits its model sets it aside the same way
(``set_aside``) and loads again.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .sealed import Undecodable, read_sealed, write_sealed
from .sealing import fsync_dir

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
        body = {"version": self._version, "position": position, "state": state}
        write_sealed(self._dir / f"{PREFIX}{position:012d}{SUFFIX}", self._key, body, CONTEXT)
        stale = self._files()[KEEP:]
        for _, path in stale:
            path.unlink(missing_ok=True)
        if stale:
            fsync_dir(self._dir)
        log.info("snapshot saved", extra={"event": "snapshot_saved", "position": position})

    def load(self) -> tuple[int, dict[str, Any]] | None:
        """The newest snapshot that opens and migrates, as (position, state); None if there is none."""
        for position, path in self._files():
            try:
                body = read_sealed(path, self._key, CONTEXT)
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
