"""A power cut in the middle of ``phs provision apply``: the trust pin, the administrators and
the registry are applied together or not at all (the break-it pass found the pin lost)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance.core.settings import Settings
from appliance.web.app import create_app
from provisioning import box as box_module
from provisioning.box import ProvisioningService
from tests.provisioning.conftest import FIXTURES, SITTING
from tests.provisioning.test_roundtrip import build

SETUP = "246810"


class PowerCut(RuntimeError):
    """Where the power goes: nothing of the application after this point runs."""


@contextmanager
def box(tmp: Path) -> Iterator[tuple[TestClient[Any], dict[str, str]]]:
    settings = Settings(data_dir=tmp / "data", keys_dir=tmp / "keys", setup_code=SETUP)
    with TestClient(create_app(settings)) as client:
        paired = client.post("/api/pair", json={"code": SETUP})
        token = paired.json()["token"] if paired.status_code == 200 else ""
        yield client, {"Authorization": f"Bearer {token}"}


def bundle_for(tmp: Path, org_key: Path, documents: Path) -> tuple[bytes, dict[str, str]]:
    with box(tmp) as (client, auth):
        (tmp / "enrol.json").write_text(json.dumps(client.get("/api/provisioning/enrolment", headers=auth).json()))
        tokens = dict(auth)
    return build(tmp, org_key, SITTING, FIXTURES / "dai-bieu.csv", documents, tmp / "enrol.json").read_bytes(), tokens


def apply(client: TestClient[Any], auth: dict[str, str], data: bytes) -> Any:
    return client.post("/api/provisioning/bundles", content=data, headers={**auth, "content-type": "application/octet-stream",
                                                                           "x-bundle-name": "ky-hop.phsb"})


def cut_at(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    def cut(*args: Any, **kw: Any) -> Any:
        raise PowerCut

    monkeypatch.setattr(target, name, cut)


def test_a_cut_after_the_commit_is_finished_on_the_next_start(
    tmp_path: Path, org_key: Path, documents: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, auth = bundle_for(tmp_path, org_key, documents)
    cut_at(monkeypatch, ProvisioningService, "_promote")  # the registry is durable, the box state not yet
    with box(tmp_path) as (client, _):
        assert apply(client, auth, data).status_code == 500  # the app answers; on a box nothing would
    monkeypatch.undo()
    with box(tmp_path) as (client, _):
        status = client.get("/api/provisioning", headers=auth).json()
        again = apply(client, auth, data)
        names = [p["name"] for p in client.get("/api/participants", headers=auth).json()["participants"]]
    assert status["trusted_fingerprint"] is not None and status["trusted_fingerprint"] == again.json()["signer"]
    assert (again.status_code, again.json()["already_applied"]) == (200, True)  # the same stick: recognised
    assert names.count("Nguyễn Văn An") == 1


def test_a_cut_before_the_commit_leaves_nothing_and_the_bundle_applies_again(
    tmp_path: Path, org_key: Path, documents: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, auth = bundle_for(tmp_path, org_key, documents)
    cut_at(monkeypatch, box_module, "commit_commands")  # pending state written, journal untouched
    with box(tmp_path) as (client, _):
        assert apply(client, auth, data).status_code == 500  # the app answers; on a box nothing would
    monkeypatch.undo()
    with box(tmp_path) as (client, _):
        before = client.get("/api/provisioning", headers=auth).json()
        state = client.get("/api/state", headers=auth).json()
        first = apply(client, auth, data)
    assert (before["trusted_fingerprint"], state["body"]["name"]) == (None, "")
    assert (first.status_code, first.json()["first_use"], first.json().get("already_applied")) == (200, True, None)
