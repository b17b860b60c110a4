"""A fresh box after its first bundle: the hall display shows the fingerprints, administrators sign in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.provisioning.conftest import FIXTURES, SITTING
from tests.provisioning.test_roundtrip import Box, build, enrol

ADMINS = [
    {"username": "kythuat", "name": "Nguyễn Văn Kỹ", "role": "technician", "password_env": "PHS_TEST_TECH_PASSWORD"},
    {"username": "thuky", "name": "Đỗ Thị Giang", "role": "secretary", "password": "thu-ky-mat-khau-2026"},
]


async def post(box: Box, path: str, body: dict[str, Any], token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with box.client() as c:
        return await c.post(path, json=body, headers=headers)


async def test_fresh_box_shows_fingerprints_and_administrators_sign_in(
    tmp_path: Path, org_key: Path, documents: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PHS_TEST_TECH_PASSWORD", "ky-thuat-mat-khau-2026")
    box = Box(tmp_path / "box")
    await box.start()
    try:
        async with box.client() as c:
            fresh = (await c.get("/api/provisioning/box")).json()  # no credential: the hall display before pairing
        enrolment = await enrol(box, tmp_path)
        assert fresh == {"stage": "idle", "bundle": None, "done": None, "total": None, "outcome": None, "configured": False,
                         "box_fingerprint": enrolment.read_text().split('"fingerprint": "')[1].split('"')[0], "trusted_fingerprint": None}
        config = dict(SITTING, admins=ADMINS)
        bundle = build(tmp_path, org_key, config, FIXTURES / "dai-bieu.csv", documents, enrolment)
        receipt = await box.apply(bundle.read_bytes())
        org_fp = (Path(f"{org_key}.pub").read_text().split('"fingerprint": "')[1].split('"')[0])
        async with box.client() as c:
            shown = (await c.get("/api/provisioning/box")).json()
        assert (shown["stage"], shown["outcome"], shown["configured"]) == ("done", {"ok": True}, True)
        assert (shown["done"], shown["total"]) == (3, 3)
        assert shown["trusted_fingerprint"] == org_fp == receipt["signer"]
        assert "counts" not in str(shown)  # nothing about the sitting for an unpaired screen

        wrong = await post(box, "/api/login", {"username": "kythuat", "password": "sai-mat-khau-roi"})
        unknown = await post(box, "/api/login", {"username": "khong-co", "password": "ky-thuat-mat-khau-2026"})
        assert (wrong.status_code, wrong.json()["code"]) == (401, "login_failed") == (unknown.status_code, unknown.json()["code"])

        tech = (await post(box, "/api/login", {"username": "kythuat", "password": "ky-thuat-mat-khau-2026"})).json()
        assert (tech["role"], tech["participant"]["name"]) == ("technician", "Nguyễn Văn Kỹ")
        secretary = (await post(box, "/api/login", {"username": "thuky", "password": "thu-ky-mat-khau-2026"})).json()
        assert secretary["role"] == "secretary"
        state = await box.get("/api/state")
        delegate = next(p for p in state["participants"] if p["name"] == "Lê Văn Cường")
        issued = await post(box, "/api/pairing-codes", {"participant_id": delegate["id"]}, secretary["token"])
        assert issued.status_code == 200 and len(issued.json()["code"]) == 6
        refused = await post(box, "/api/pairing-codes", {"participant_id": delegate["id"]}, tech["token"])
        assert refused.json()["code"] == "forbidden"  # IT staff pair displays, not delegates
        screen = next(p for p in state["participants"] if p["role"] == "display")
        assert screen["name"] == "Màn hình hội trường"  # the default hall display of a bundle
        shown_code = await post(box, "/api/pairing-codes", {"participant_id": screen["id"]}, tech["token"])
        kiosk = await post(box, "/api/pair", {"code": shown_code.json()["code"]})
        assert kiosk.json()["role"] == "display"

        # The same stick plugged in again: nothing changes, and it is not reported as a refusal.
        again_same = await box.apply(bundle.read_bytes())
        assert (again_same["ok"], again_same["already_applied"]) == (True, True)
        assert (await box.get("/api/state"))["position"] == state["position"] + 3  # two sign-ins' codes and pairings, one screen's code...

        # A replacement bundle keeps the administrators' participants, so their devices stay paired.
        again = build(tmp_path, org_key, dict(config, replace=True, body="HĐND xã Thay thế"), FIXTURES / "dai-bieu.csv", documents, enrolment, "thay.phsb")
        await box.apply(again.read_bytes(), "thay.phsb")
        async with box.client() as c:
            me = (await c.get("/api/me", headers={"Authorization": f"Bearer {tech['token']}"})).json()
        assert (me["role"], me["participant"]["id"]) == ("technician", tech["participant"]["id"])
        names = [p["name"] for p in (await box.get("/api/state"))["participants"]]
        assert names.count("Nguyễn Văn Kỹ") == 1
    finally:
        await box.server.stop()
