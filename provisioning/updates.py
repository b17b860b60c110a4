"""Software updates from a USB stick: verify, stage beside the running version, switch, roll back.

Layout under a root (``/var/lib/phs/software`` on the box — the root filesystem is
read-only, so updates live on the data partition — a temporary folder in tests)::

    releases/<version>/venv      the package and its dependencies (from the bundle's wheels)
    releases/<version>/web_ui    the browser code (the server finds it beside its venv)
    current  -> releases/<version>     switched atomically: symlink beside it + rename
    previous -> releases/<older>       kept for exactly one rollback

On a fresh box ``current`` points at the release the image shipped (``/opt/phs/current``,
read-only); that one is never pruned. The running version is never touched while
staging; on the box ``phs-update.path`` (systemd) sees ``current`` change and restarts
``phs.service``, so every program runs the new version. Tablets load the new web UI on their next reload because the
server sends HTML and scripts with ``Cache-Control: no-cache`` (revalidated every load).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance import __version__
from appliance.core.errors import refuse

from . import FORMAT_VERSION
from .format import invalid
from .reader import Bundle
from .writer import write_bundle

_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){1,3}([a-z0-9.+-]{0,20})$")


class Installer(Protocol):
    """Turns a staged release folder's wheels into a runnable environment."""

    def install(self, release: Path, version: str) -> None:
        """Create ``release/venv`` from ``release/wheels``."""


class VenvInstaller:
    """A fresh virtualenv with the bundle's wheels only (``--no-index``: the box is offline)."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python

    def install(self, release: Path, version: str) -> None:
        """python -m venv, then pip install phs==VERSION from the staged wheels."""
        venv = release / "venv"
        subprocess.run([self.python, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--no-index", "--find-links", str(release / "wheels"), f"phs=={version}"],
            check=True,
        )


def build_update(key: Ed25519PrivateKey, wheels: list[Path], web_ui: Path | None, version: str, output: Path) -> Path:
    """An update bundle: the package's wheels (and its dependencies') plus the web UI."""
    files: dict[str, bytes] = {f"wheels/{w.name}": w.read_bytes() for w in wheels}
    if web_ui is not None:
        for path in sorted(web_ui.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                files[f"web_ui/{path.relative_to(web_ui).as_posix()}"] = path.read_bytes()
    manifest = {"format": FORMAT_VERSION, "kind": "update", "version": version, "generator": f"phs {__version__}"}
    return write_bundle(manifest, files, key, output)


def _version(bundle: Bundle) -> str:
    version = str(bundle.manifest.get("version", ""))
    if bundle.kind != "update" or not _VERSION.match(version):
        raise invalid("Gói cập nhật không ghi phiên bản hợp lệ.", "The update bundle names no valid version.", reason="version")
    if not any(n.startswith("wheels/") and n.endswith(".whl") for n in bundle.files):
        raise invalid("Gói cập nhật không có wheel.", "The update bundle carries no wheel.", reason="wheels")
    return version


def current_version(root: Path) -> str | None:
    """The version ``current`` points at (through the image's own ``/opt/phs/current`` link too)."""
    link = root / "current"
    return Path(os.path.realpath(link)).name if link.is_symlink() else None


def stage(root: Path, bundle: Bundle, installer: Installer | None = None) -> str:
    """Unpack and install the release beside the running one; the version staged."""
    version = _version(bundle)
    if version == current_version(root):
        raise refuse("conflict", "Phiên bản này đang chạy.", f"Version {version} is already running.")
    releases = root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    work = releases / f".{version}.staging"
    shutil.rmtree(work, ignore_errors=True)
    for name, data in bundle.files.items():  # names were checked by the reader: no '..', no links
        target = work / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (installer or VenvInstaller()).install(work, version)
    final = releases / version
    shutil.rmtree(final, ignore_errors=True)
    os.replace(work, final)
    return version


def _point(root: Path, name: str, target: str) -> None:
    """Atomically make ``root/name`` a link to ``target`` (symlink beside, then rename)."""
    tmp = root / f".{name}.new"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, root / name)


def switch(root: Path, version: str) -> None:
    """Make ``version`` current and keep the one it replaces as ``previous``; prune older ones."""
    if not (root / "releases" / version / "venv").is_dir():
        raise refuse("not_found", message_en=f"Version {version} is not staged.")
    old = current_version(root)
    old_target = os.readlink(root / "current") if (root / "current").is_symlink() else None
    _point(root, "current", str(Path("releases") / version))
    if old_target and old != version:
        _point(root, "previous", old_target)  # as it was: the image's release stays an absolute link
    keep = {version, old}
    for release in (root / "releases").iterdir():
        if release.name not in keep and not release.name.startswith("."):
            shutil.rmtree(release, ignore_errors=True)


def rollback(root: Path) -> str:
    """Go back to ``previous`` once; the version now current."""
    link = root / "previous"
    if not link.is_symlink():
        raise refuse("not_found", "Không có phiên bản trước để quay lại.", "There is no previous version to roll back to.")
    _point(root, "current", os.readlink(link))
    link.unlink()
    return str(current_version(root))
