"""USB export of sealed archives for sites with no uplink, and receipts brought back on a stick.

A stick with a ``PHS-archive/`` folder at its top asks for the box's archives. When it is
plugged in, ``phs devices`` (which never opens the store) asks the server over the local
socket:

1. every receipt in ``PHS-archive/receipts/*.json`` (written by ``phs archive receipt`` on
   the archive side) is handed over; the server checks its MAC against the builds it made
   and records it in the journal, so retention can start counting;
2. every sealed archive still without a receipt is copied to ``PHS-archive/`` (part file,
   fsync, rename), unless the stick already holds it whole.

The archives are encrypted for the archive's key before they leave the server, so the
stick carries nothing readable. A write-protected stick still delivers its receipts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from appliance.core.errors import PhsError

log = logging.getLogger("phs.devices.usb")

ARCHIVE_DIR = "PHS-archive"
RECEIPTS = "receipts"
MAX_RECEIPTS = 100
MAX_RECEIPT_BYTES = 64 * 1024


class ArchiveLink(Protocol):
    """The way to the server's archive routes."""

    def exports(self) -> list[dict[str, Any]] | None:
        """Archives waiting for a receipt (``file``, ``size``, ...); None while the server is down."""

    def fetch(self, name: str, out: Path) -> None:
        """Stream one archive into ``out``."""

    def receipt(self, body: dict[str, Any]) -> dict[str, Any]:
        """Hand a receipt over; the server's answer, or PhsError with its refusal."""


class LocalArchiveLink:
    """The server's local socket (``DATA/run/local.sock``): no credential, the file mode is the door."""

    def __init__(self, socket: Path, base_url: str = "http://phs.local") -> None:
        self.socket, self.base_url = socket, base_url

    def _client(self) -> Any:
        import httpx

        transport = httpx.HTTPTransport(uds=str(self.socket))
        return httpx.Client(transport=transport, base_url=self.base_url, timeout=600.0, trust_env=False)

    def exports(self) -> list[dict[str, Any]] | None:
        """GET the list; None when the server does not answer."""
        import httpx

        try:
            with self._client() as client:
                response = client.get("/api/local/archive/exports")
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            return None
        archives = response.json().get("archives", [])
        return [a for a in archives if isinstance(a, dict)]

    def fetch(self, name: str, out: Path) -> None:
        """Stream the archive to ``out`` without holding it in memory."""
        with self._client() as client, client.stream("GET", f"/api/local/archive/exports/{name}") as response:
            if response.status_code != 200:
                raise PhsError("not_found", message_en=f"the server no longer offers {name}")
            with out.open("wb") as fh:
                for chunk in response.iter_bytes(1 << 20):
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())

    def receipt(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST the receipt; a refusal comes back as PhsError."""
        with self._client() as client:
            response = client.post("/api/local/archive/usb-receipts", json=body)
        answer: dict[str, Any] = response.json()
        if response.status_code >= 400:
            raise PhsError(str(answer.get("code", "internal")), answer.get("message"), answer.get("message_en"))
        return answer


def _safe_name(name: Any) -> bool:
    return isinstance(name, str) and name.endswith(".phsa") and "/" not in name and not name.startswith(".")


class ArchiveStick:
    """What a stick with ``PHS-archive/`` gets: receipts taken in, archives written out."""

    def __init__(self, link: ArchiveLink) -> None:
        self.link = link

    @staticmethod
    def wants(root: Path) -> bool:
        """Only a stick whose owner made the folder is written to."""
        folder = root / ARCHIVE_DIR
        return folder.is_dir() and not folder.is_symlink()

    def process(self, root: Path, make_writable: Callable[[], bool]) -> dict[str, Any]:
        """Receipts first (so a confirmed archive is not copied again), then the exports."""
        folder = root / ARCHIVE_DIR
        outcome: dict[str, Any] = {"receipts": [], "exported": [], "kept": []}
        for path in self._receipt_files(folder):
            outcome["receipts"].append(self._hand_in(path))
        waiting = self.link.exports()
        if waiting is None:
            outcome["error"] = "server_unreachable"
            return outcome
        todo = []
        for archive in waiting:
            name = archive.get("file")
            if not _safe_name(name):
                continue
            there = folder / str(name)
            if there.is_file() and not there.is_symlink() and there.stat().st_size == archive.get("size"):
                outcome["kept"].append(name)
            else:
                todo.append(str(name))
        if todo and not make_writable():
            log.info("archive stick is write-protected: nothing exported")
            outcome["error"] = "write_protected"
            return outcome
        for name in todo:
            part = folder / f".{name}.part"
            self.link.fetch(name, part)
            os.replace(part, folder / name)
            outcome["exported"].append(name)
            log.info("archive exported to stick", extra={"event": "archive_exported", "file": name})
        if todo:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return outcome

    @staticmethod
    def _receipt_files(folder: Path) -> list[Path]:
        where = folder / RECEIPTS
        if where.is_symlink() or not where.is_dir():
            return []
        found = [p for p in sorted(where.glob("*.json")) if p.is_file() and not p.is_symlink()]
        return found[:MAX_RECEIPTS]

    def _hand_in(self, path: Path) -> dict[str, Any]:
        import json

        try:
            if path.stat().st_size > MAX_RECEIPT_BYTES:
                raise ValueError("too large")
            body = json.loads(path.read_bytes())
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            return {"file": path.name, "ok": False, "code": "invalid"}
        try:
            answer = self.link.receipt(body)
        except PhsError as err:
            log.warning("archive receipt refused", extra={"file": path.name, "code": err.code})
            return {"file": path.name, "ok": False, "code": err.code}
        log.info("archive receipt recorded", extra={"event": "archive_receipt_usb", "file": path.name})
        return {"file": path.name, "ok": True, "sitting_id": answer.get("sitting_id")}
