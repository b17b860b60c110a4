"""keygen -> build -> inspect -> apply to a real `phs serve`: the sitting is served as described."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.core.errors import PhsError
from appliance.devices.usb_storage import HttpHandover
from appliance.scenario.server import LocalAppliance
from provisioning.cli import main as provision_main
from provisioning.reader import read_bundle_file
from tests.provisioning.conftest import CORPUS, FIXTURES, SITTING
from tests.provisioning.crafting import bad_bundles


class Box:
    """A real server plus a secretary's credential and the IT person's handover."""

    def __init__(self, root: Path) -> None:
        (root / "logs").mkdir(parents=True, exist_ok=True)
        self.server = LocalAppliance(root / "data", root / "keys", root / "logs")
        self.token = ""

    async def start(self) -> None:
        await self.server.start()
        async with self.client() as c:
            self.token = (await c.post("/api/pair", json={"code": self.server.setup_code})).json()["token"]

    def client(self) -> Any:
        import httpx

        return httpx.AsyncClient(base_url=self.server.base_url, timeout=60.0, trust_env=False)

    @property
    def handover(self) -> HttpHandover:
        return HttpHandover(base_url=self.server.base_url, token=self.token)

    async def get(self, path: str) -> Any:
        async with self.client() as c:
            return (await c.get(path, headers={"Authorization": f"Bearer {self.token}"})).json()

    async def apply(self, data: bytes, name: str = "ky-hop.phsb") -> dict[str, Any]:
        return await asyncio.to_thread(self.handover.submit, "provisioning", name, data)


def build(tmp_path: Path, key: Path, config: dict[str, Any], roster: Path, docs: Path, box: Path, name: str = "ky-hop.phsb") -> Path:
    sitting = tmp_path / f"{name}.yaml"
    sitting.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / name
    args = ["build", "--key", str(key), "--config", str(sitting), "--participants", str(roster), "--documents", str(docs), "--box", str(box), "-o", str(out)]
    assert provision_main(args) == 0
    return out


async def enrol(box: Box, tmp_path: Path) -> Path:
    path = tmp_path / "enrol.json"
    path.write_text(json.dumps(await box.get("/api/provisioning/enrolment")))
    return path


async def test_round_trip_serves_the_sitting_exactly_and_refusals_change_nothing(tmp_path: Path, org_key: Path, documents: Path) -> None:
    box = Box(tmp_path / "box")
    await box.start()
    try:
        enrolment = await enrol(box, tmp_path)
        bundle = build(tmp_path, org_key, SITTING, FIXTURES / "dai-bieu.csv", documents, enrolment)
        assert provision_main(["inspect", str(bundle)]) == 0
        described = read_bundle_file(bundle)
        bad = bad_bundles(bundle.read_bytes(), org_key)

        receipt = await box.apply(bundle.read_bytes())
        assert receipt["ok"] is True and receipt["first_use"] is True
        state = await box.get("/api/state")
        assert state["body"]["name"] == "HĐND phường Thử nghiệm" and state["session"]["title"] == "Kỳ họp thứ nhất"
        assert [s["title"] for s in state["sittings"]] == ["Phiên họp thứ nhất", "Phiên họp thứ hai"]
        served = {p["name"]: (p["role"], p["seat"], p["team"], p["title"], p["unit"]) for p in state["participants"]}
        for p in described.json("participants.json"):
            assert served[p["name"]] == (p["role"], p["seat"], p["team"], p["title"], p["unit"])
        assert served["Lê Văn Cường"][3:] == ("Đại biểu", "Tổ dân phố 3, phường Thử nghiệm")
        assert state["body"]["total_delegates"] == 5
        assert [i["title"] for i in state["agenda"]] == [i["title"] for i in SITTING["agenda"]]
        pages = [[state["documents"][d]["pages"] for d in item["documents"]] for item in state["agenda"]]
        assert pages == [[d["pages"] for d in i["documents"]] for i in described.json("agenda.json")] == [[2], [2, 1], []]
        status = await box.get("/api/provisioning")
        assert status["stage"] == "done" and status["trusted_fingerprint"] == described.fingerprint

        # Every refusal leaves the box exactly where it was (the journal position included).
        position = state["position"]
        for name, (data, code) in bad.items():
            with pytest.raises(PhsError) as refused:
                await box.apply(data, f"{name}.phsb")
            assert refused.value.code == code, name
            assert (await box.get("/api/state"))["position"] == position, name
        # The same stick plugged in again: already applied, nothing written.
        same = await box.apply(bundle.read_bytes())
        assert (same["ok"], same["already_applied"]) == (True, True)
        assert (await box.get("/api/state"))["position"] == position
        # Another bundle that does not say replace, while the box holds a session: refused.
        other = build(tmp_path, org_key, dict(SITTING, body="HĐND xã Khác"), FIXTURES / "dai-bieu.csv", documents, enrolment, "khac.phsb")
        with pytest.raises(PhsError) as again:
            await box.apply(other.read_bytes(), "khac.phsb")
        assert again.value.code == "conflict"
        assert (await box.get("/api/state"))["position"] == position

        # replace: true swaps the configuration in one record; rollback puts the first one back.
        smaller = dict(SITTING, replace=True, body="HĐND xã Thay thế", agenda=[{"title": "Mục duy nhất", "documents": []}])
        second = build(tmp_path, org_key, smaller, FIXTURES / "dai-bieu.csv", documents, enrolment, "thay.phsb")
        await box.apply(second.read_bytes(), "thay.phsb")
        state = await box.get("/api/state")
        assert (state["body"]["name"], len(state["agenda"]), state["position"]) == ("HĐND xã Thay thế", 1, position + 1)
        async with box.client() as c:
            r = await c.post("/api/provisioning/rollback", headers={"Authorization": f"Bearer {box.token}"})
        assert r.status_code == 200, r.text
        state = await box.get("/api/state")
        assert (state["body"]["name"], len(state["agenda"]), len(state["documents"])) == ("HĐND phường Thử nghiệm", 3, 3)
    finally:
        await box.server.stop()


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is absent")
async def test_the_500_delegate_corpus_list_round_trips(tmp_path: Path, org_key: Path, documents: Path) -> None:
    box = Box(tmp_path / "box")
    await box.start()
    try:
        enrolment = await enrol(box, tmp_path)
        config = dict(SITTING, body="Quốc hội khóa XVI (thử)", agenda=[{"title": "Nghị quyết HĐND Hà Nội", "documents": ["nghi-quyet-hdnd-hanoi-11-2025.pdf"]}])
        corpus_docs = tmp_path / "corpus-docs"
        corpus_docs.mkdir()
        (corpus_docs / "nghi-quyet-hdnd-hanoi-11-2025.pdf").write_bytes((CORPUS / "nghi-quyet-hdnd-hanoi-11-2025.pdf").read_bytes())
        bundle = build(tmp_path, org_key, config, CORPUS / "delegates-qh-xvi-derived.csv", corpus_docs, enrolment)
        described = read_bundle_file(bundle)
        await box.apply(bundle.read_bytes())
        state = await box.get("/api/state")
        assert state["body"]["total_delegates"] == 500
        names = [p["name"] for p in state["participants"] if p["role"] == "delegate"]
        assert sorted(names) == sorted(p["name"] for p in described.json("participants.json"))
        doc = next(iter(state["documents"].values()))
        assert doc["pages"] == described.json("agenda.json")[0]["documents"][0]["pages"] > 0
    finally:
        await box.server.stop()
