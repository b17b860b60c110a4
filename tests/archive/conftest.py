"""A finalised sitting on a real server, shared by the archive tests (built once per module)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from appliance.archive.envelope import generate_archive_keys
from tests.web.realserver import Driver

GROUP_CONCLUSION = "Tổ thống nhất với dự thảo, đề nghị bổ sung tiến độ giải ngân."
NAMES = ["Nguyễn Văn Chủ", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hương", "Vũ Quốc Khánh", "Đỗ Ngọc Lan"]


@dataclass
class Finalised:
    """What the real-server run left: its directories, API answers and the archive key pair."""

    root: Path
    data: Path
    keys: Path
    sitting: str
    polls: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    archive_private: Path = Path()
    archive_public: str = ""


async def _play(d: Driver, out: Finalised) -> None:
    await d.setup(NAMES)
    async with d.client() as c:
        sec, chair = d.h("secretary"), d.h("d1")
        corpus = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "giay-moi-hdnd-tuan-giao.pdf"
        if corpus.is_file():
            files = {"file": (corpus.name, corpus.read_bytes(), "application/pdf")}
            r = await c.post("/api/documents", files=files, data={"item": "1"}, headers=sec)
            out.answers["upload"] = r.status_code
        await c.post("/api/sitting/open", json={}, headers=chair)
        for i in range(1, 6):
            await c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}"))
        await c.post("/api/agenda/current", json={"item": 1}, headers=chair)
        await c.post("/api/floor/request", json={}, headers=d.h("d3"))
        await c.post("/api/floor/grant", json={"to": "next"}, headers=chair)
        await asyncio.sleep(0.3)
        await c.post("/api/floor/end", json={"to": "all"}, headers=chair)
        made = await c.post("/api/groups", headers=chair, json={"mode": "manual", "item": 1, "duration_s": 600, "groups": [
            {"name": "Tổ đại biểu số 1", "members": [d.ids["d2"], d.ids["d3"]], "convener": d.ids["d2"]}]})
        gid = made.json()["groups"][0]["id"]
        r = await c.post(f"/api/groups/{gid}/conclusions", headers=d.h("d2"), json={"text": GROUP_CONCLUSION})
        out.answers["group_conclusion"] = r.status_code
        plans = {
            "public": ("public", ["for", "for", "for", "against", "abstain"]),
            "secret": ("secret", ["for", "for", "against", "against", "for"]),
        }
        for name, (method, answers) in plans.items():
            r = await c.post("/api/polls", json={"question": f"Tán thành phương án {name}?", "method": method,
                                                 "answers": ["for", "against", "abstain"],
                                                 "rule": "more_than_half_of_total"}, headers=chair)
            pid = r.json()["poll"]["id"]
            for i, a in enumerate(answers, 1):
                await c.post(f"/api/polls/{pid}/ballots", json={"answer": a}, headers=d.h(f"d{i}"))
            await c.post(f"/api/polls/{pid}/close", json={}, headers=chair)
            out.polls[name] = (await c.get(f"/api/polls/{pid}", headers=d.h("d2"))).json()["poll"]
        state = (await c.get("/api/state", headers=sec)).json()
        out.sitting = state["sitting"]["id"]
        sid = out.sitting
        out.answers["draft_delegate"] = (await c.get(f"/api/minutes/{sid}/draft/pdf", headers=d.h("d2"))).status_code
        r = await c.put(f"/api/minutes/{sid}/conclusions", headers=sec,
                        json={"conclusions": "Chủ tọa kết luận: thống nhất thông qua.", "place": "Phường Thử nghiệm"})
        out.answers["conclusions"] = r.status_code
        r = await c.put(f"/api/minutes/{sid}/absences", headers=sec,
                        json={"participant_id": d.ids["d6"], "reason": "Đi công tác tại Sở Nội vụ"})
        out.answers["absence"] = r.status_code
        r = await c.put(f"/api/minutes/{sid}/absences", headers=sec, json={"participant_id": "nobody", "reason": "x"})
        out.answers["absence_unknown"] = r.json().get("code")
        out.answers["absence_delegate"] = (await c.put(f"/api/minutes/{sid}/absences", headers=d.h("d2"),
                                                       json={"participant_id": d.ids["d6"], "reason": "x"})).status_code
        out.answers["finalise_open"] = (await c.post(f"/api/minutes/{sid}/finalise", headers=sec)).json()
        out.answers["sig_before"] = (await c.get(f"/api/minutes/{sid}/draft/sig", headers=sec)).json().get("code")
        out.answers["bad_format"] = (await c.get(f"/api/minutes/{sid}/draft/xls", headers=sec)).json().get("code")
        out.answers["unknown_sitting"] = (await c.get("/api/minutes/no-such-sitting", headers=sec)).json().get("code")
        await c.post("/api/sitting/close", json={}, headers=chair)
        out.answers["draft_chair"] = (await c.get(f"/api/minutes/{sid}/draft/pdf", headers=chair)).status_code
        out.answers["finalise"] = (await c.post(f"/api/minutes/{sid}/finalise", headers=sec)).json()
        again = await c.put(f"/api/minutes/{sid}/conclusions", headers=sec, json={"conclusions": "khác"})
        out.answers["finalise_twice"] = (await c.post(f"/api/minutes/{sid}/finalise", headers=sec)).json().get("code")
        out.answers["after_final"] = again.json().get("code")
        final = await c.get(f"/api/minutes/{sid}/draft/pdf", headers=sec)
        out.answers["final_pdf"] = final.content
        out.answers["final_docx"] = (await c.get(f"/api/minutes/{sid}/draft/docx", headers=sec)).content
        out.answers["final_sig"] = (await c.get(f"/api/minutes/{sid}/draft/sig", headers=sec)).content
        out.answers["status"] = (await c.get(f"/api/minutes/{sid}", headers=sec)).json()
    await d.server.stop()


@pytest.fixture(scope="package")
def finalised(tmp_path_factory: pytest.TempPathFactory) -> Finalised:
    root = tmp_path_factory.mktemp("finalised")
    d = Driver(root)
    out = Finalised(root, d.data_dir, d.server.keys_dir, "")
    asyncio.run(_play(d, out))
    private, public = generate_archive_keys()
    out.archive_private = root / "archive.key"
    out.archive_private.write_text(private.hex())
    out.archive_public = public.hex()
    return out
