"""USB sticks carrying provisioning and update bundles: mount read-only, hand over, receipt.

(A stick with a ``PHS-archive/`` folder also takes sealed archives out: ``usb_archive.py``.)

When a stick appears, `phs devices` mounts it read-only (``ro,nosuid,nodev,noexec``),
finds ``*.phsb`` bundles at its top level or in ``PHS/``, and hands each to the server
(which verifies and applies it — this process never opens the store). The stick gets
the box's ``enrol.json`` (public keys, so the IT tool can seal secrets for this box)
and one receipt per bundle, but only when it can be remounted writable: a
write-protected stick is read and left exactly as it was. Only ``Mounter`` touches the
system, so tests can fake that one edge when loop devices are not available.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Protocol

from appliance.core.errors import PhsError
from appliance.devices.usb_archive import ArchiveStick, LocalArchiveLink
from appliance.devices.watcher import Change

log = logging.getLogger("phs.devices.usb")

MOUNT_OPTIONS = "ro,nosuid,nodev,noexec"
BUNDLE_SUFFIX = ".phsb"
BUNDLE_DIRS = ("", "PHS", "phs")
RECEIPTS_DIR = "PHS-receipts"
ENROL_FILE = "enrol.json"
MAX_BUNDLES = 20
MAX_BUNDLE_BYTES = 513 * 1024 * 1024
KEY_STICK_LABEL = "PHSKEY"  # the key stick is for phs-firstboot only, never read here


class Mounter(Protocol):
    """The system edge: mount, remount and unmount a block device."""

    def mount(self, node: str, target: Path) -> None:
        """Mount ``node`` at ``target`` read-only; raises OSError when it cannot."""

    def make_writable(self, target: Path) -> bool:
        """Remount read-write; False for a write-protected stick."""

    def unmount(self, target: Path) -> None:
        """Flush and unmount."""


class SystemMounter:
    """mount(8) and umount(8); `phs devices` runs as root on the box for this."""

    def _run(self, *args: str) -> bool:
        result = subprocess.run(list(args), capture_output=True, text=True, timeout=30, check=False)
        if result.returncode != 0:
            log.debug("command failed", extra={"command": args[0], "error": result.stderr.strip()[:200]})
        return result.returncode == 0

    def mount(self, node: str, target: Path) -> None:
        """Read-only, no devices, no set-uid, nothing executable."""
        target.mkdir(parents=True, exist_ok=True)
        if not self._run("mount", "-o", MOUNT_OPTIONS, node, str(target)):
            raise OSError(f"cannot mount {node}")

    def make_writable(self, target: Path) -> bool:
        """Remount rw (still nosuid,nodev,noexec); fails on a write-protect switch."""
        return self._run("mount", "-o", "remount,rw,nosuid,nodev,noexec", str(target))

    def unmount(self, target: Path) -> None:
        """Unmount; the kernel flushes the stick's buffers first."""
        os.sync()
        self._run("umount", str(target))


class Handover(Protocol):
    """The way to the server (the local API on the box)."""

    def enrolment(self) -> dict[str, Any] | None:
        """The box's enrol.json, or None while the server is unreachable."""

    def submit(self, kind: str, name: str, data: bytes) -> dict[str, Any]:
        """Hand a bundle over; the receipt, or PhsError with the server's refusal."""


class HttpHandover:
    """Posts bundles to the server: over the local unix socket, or a URL with a credential."""

    def __init__(self, *, socket: Path | None = None, base_url: str = "http://phs.local", token: str | None = None) -> None:
        self.socket, self.base_url, self.token = socket, base_url, token
        # The local socket has its own door (no credential); TCP needs a secretary's.
        self.prefix = "/api/local/provisioning" if socket else "/api/provisioning"

    def _client(self) -> Any:
        import httpx

        transport = httpx.HTTPTransport(uds=str(self.socket)) if self.socket else None
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(transport=transport, base_url=self.base_url, headers=headers, timeout=600.0, trust_env=False)

    def enrolment(self) -> dict[str, Any] | None:
        """GET the enrolment document; None when the server is not up."""
        import httpx

        try:
            with self._client() as client:
                response = client.get(f"{self.prefix}/enrolment")
        except httpx.TransportError:
            return None
        body: dict[str, Any] = response.json() if response.status_code == 200 else {}
        return body or None

    def submit(self, kind: str, name: str, data: bytes) -> dict[str, Any]:
        """POST the raw bundle; a refusal comes back as PhsError."""
        path = f"{self.prefix}/updates" if kind == "update" else f"{self.prefix}/bundles"
        with self._client() as client:
            response = client.post(path, content=data, headers={"X-Bundle-Name": name, "Content-Type": "application/octet-stream"})
        body: dict[str, Any] = response.json()
        if response.status_code >= 400:
            raise PhsError(str(body.get("code", "internal")), body.get("message"), body.get("message_en"), **body.get("detail", {}))
        return body


def find_bundles(root: Path) -> list[Path]:
    """Regular ``*.phsb`` files at the top of the stick or in ``PHS/``; links are ignored."""
    found: list[Path] = []
    for sub in BUNDLE_DIRS:
        folder = root / sub if sub else root
        if folder.is_symlink() or not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if entry.suffix.lower() == BUNDLE_SUFFIX and entry.is_file() and not entry.is_symlink():
                found.append(entry)
    return found[:MAX_BUNDLES]


def bundle_kind(path: Path) -> str:
    """``update`` or ``provisioning`` from the (still unverified) manifest: only to pick the route."""
    try:
        with tarfile.open(path, "r:") as tar:
            first = tar.next()
            handle = tar.extractfile(first) if first is not None and first.isreg() and first.size < 8 * 1024 * 1024 else None
            manifest = json.loads(handle.read()) if handle is not None else {}
    except (tarfile.TarError, OSError, ValueError):
        return "provisioning"  # let the server say what is wrong with it
    return "update" if isinstance(manifest, dict) and manifest.get("kind") == "update" else "provisioning"


class StickHandler:
    """What happens when a USB stick is plugged into the box."""

    def __init__(self, handover: Handover, mount_root: Path, mounter: Mounter | None = None,
                 archive: ArchiveStick | None = None) -> None:
        self.handover = handover
        self.mount_root = mount_root
        self.mounter = mounter or SystemMounter()
        self.outcomes: list[dict[str, Any]] = []
        # Archive export (usb_archive.py) rides the same local socket as the bundles.
        socket = getattr(handover, "socket", None)
        self.archive = archive or (ArchiveStick(LocalArchiveLink(socket)) if socket else None)
        self.archive_outcomes: list[dict[str, Any]] = []

    def on_change(self, change: Change) -> list[dict[str, Any]] | None:
        """Handle an 'add' of a storage device; other changes are not ours."""
        device = change.device
        if change.action != "add" or device.kind != "storage" or not device.node or device.name == KEY_STICK_LABEL:
            return None
        return self.process(device.node, device.name)

    def process(self, node: str, label: str) -> list[dict[str, Any]]:
        """Mount, hand every bundle over, write enrol.json and receipts if writable, unmount."""
        target = self.mount_root / re.sub(r"[^A-Za-z0-9_-]", "_", label or "stick")[:40]
        try:
            self.mounter.mount(node, target)
        except OSError as exc:
            log.info("storage device not mountable, ignored", extra={"device": label, "error": str(exc)[:200]})
            return []
        outcomes: list[dict[str, Any]] = []
        try:
            for path in find_bundles(target):
                outcomes.append(self._hand_over(path))
            self._write_back(target, outcomes)
            if self.archive is not None and self.archive.wants(target):
                self.archive_outcomes.append(self.archive.process(target, lambda: self.mounter.make_writable(target)))
        finally:
            self.mounter.unmount(target)
        self.outcomes += outcomes
        return outcomes

    def _hand_over(self, path: Path) -> dict[str, Any]:
        name = path.name
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            return {"file": name, "ok": False, "code": "bundle_too_large"}
        kind = bundle_kind(path)
        log.info("bundle found on stick, handing over", extra={"bundle": name, "kind": kind})
        try:
            receipt = self.handover.submit(kind, name, path.read_bytes())
        except PhsError as err:
            log.warning("bundle refused", extra={"bundle": name, "code": err.code})
            return {"file": name, "ok": False, **err.to_dict()}
        except OSError as exc:
            return {"file": name, "ok": False, "code": "unreadable", "message_en": str(exc)[:200]}
        log.info("bundle applied", extra={"bundle": name})
        return {**receipt, "file": name}

    def _write_back(self, target: Path, outcomes: list[dict[str, Any]]) -> None:
        enrolment = self.handover.enrolment()
        stale = enrolment is not None and _read_json(target / ENROL_FILE).get("fingerprint") != enrolment.get("fingerprint")
        if not outcomes and not stale:
            return
        if not self.mounter.make_writable(target):
            log.info("stick is write-protected: no receipt written")
            return
        if stale and enrolment is not None:
            _write_json(target / ENROL_FILE, enrolment)
        for outcome in outcomes:
            _write_json(target / RECEIPTS_DIR / f"{Path(outcome['file']).stem}.json", outcome)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _write_json(path: Path, value: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
