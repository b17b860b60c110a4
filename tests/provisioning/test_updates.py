"""Software updates by USB against a folder standing in for /opt/phs: stage, switch, one rollback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.core.errors import PhsError
from provisioning.crypto import load_org_key, raw_public
from provisioning.reader import read_bundle_file
from provisioning.updates import build_update, current_version, rollback, stage, switch

REPO = Path(__file__).resolve().parents[2]


class MarkerInstaller:
    """Stands in for venv + pip (which needs every dependency's wheel): records what it installed."""

    def install(self, release: Path, version: str) -> None:
        (release / "venv" / "bin").mkdir(parents=True)
        wheels = sorted(p.name for p in (release / "wheels").iterdir())
        (release / "venv" / "bin" / "phs").write_text(f"#!/bin/sh\necho phs {version} {' '.join(wheels)}\n")


def update(tmp_path: Path, key: Path, version: str) -> Path:
    wheel = tmp_path / f"phs-{version}-py3-none-any.whl"
    wheel.write_bytes(b"PK\x03\x04 wheel " + version.encode())
    return build_update(load_org_key(key), [wheel], REPO / "web_ui", version, tmp_path / f"phs-{version}.phsb")


def test_stage_switch_and_roll_back_once(tmp_path: Path, org_key: Path) -> None:
    root = tmp_path / "opt-phs"
    trusted = raw_public(load_org_key(org_key).public_key())
    for version in ("0.2.0", "0.3.0"):
        bundle = read_bundle_file(update(tmp_path, org_key, version), trusted=trusted)
        assert stage(root, bundle, MarkerInstaller()) == version
        assert current_version(root) != version  # staged beside, not yet running
        switch(root, version)
        assert current_version(root) == version
    assert (root / "current" / "web_ui" / "index.html").is_file()
    assert os.readlink(root / "previous") == "releases/0.2.0"
    assert rollback(root) == "0.2.0" and current_version(root) == "0.2.0"
    with pytest.raises(PhsError) as second:
        rollback(root)
    assert second.value.code == "not_found"


def test_an_update_signed_by_another_key_is_refused(tmp_path: Path, org_key: Path) -> None:
    stranger = raw_public(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(PhsError) as refused:
        read_bundle_file(update(tmp_path, org_key, "0.2.0"), trusted=stranger)
    assert refused.value.code == "bundle_untrusted"
    assert not (tmp_path / "opt-phs").exists()


def test_the_first_update_on_a_box_keeps_the_images_release_for_rollback(tmp_path: Path, org_key: Path) -> None:
    # The image ships /opt/phs/releases/0.1.0 (read-only root); phs-firstboot links
    # /var/lib/phs/software/current to it. An update lands on the data partition.
    factory = tmp_path / "opt-phs"
    (factory / "releases" / "0.1.0" / "venv").mkdir(parents=True)
    (factory / "current").symlink_to("releases/0.1.0")
    root = tmp_path / "software"
    root.mkdir()
    (root / "current").symlink_to(factory / "current")
    assert current_version(root) == "0.1.0"
    trusted = raw_public(load_org_key(org_key).public_key())
    stage(root, read_bundle_file(update(tmp_path, org_key, "0.2.0"), trusted=trusted), MarkerInstaller())
    switch(root, "0.2.0")
    assert (current_version(root), os.readlink(root / "previous")) == ("0.2.0", str(factory / "current"))
    assert rollback(root) == "0.1.0"
    assert (factory / "releases" / "0.1.0" / "venv").is_dir() and not (root / "previous").exists()
