"""The real server on a socket: acknowledged ballots survive SIGKILL; nothing readable at rest."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pymupdf
import pytest

from appliance.core.text import nfc
from appliance.store.keys import Keyring
from tests.web.realserver import Driver

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
NAMES = [f"Nguyễn Thị Thử {chr(0x41 + i)}{i:02d}" for i in range(30)]


async def open_poll(d: Driver, present: int) -> str:
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, present + 1)))
        r = await c.post("/api/polls", json={"question": "Tán thành thông qua?"}, headers=d.h("d1"))
        return str(r.json()["poll"]["id"])


async def test_acknowledged_ballots_survive_sigkill(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    poll = await open_poll(d, 30)
    acknowledged: set[str] = set()
    async with d.client() as c:
        async def vote(i: int) -> None:
            try:
                r = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=d.h(f"d{i}"))
            except Exception:
                return
            if r.status_code == 200:
                acknowledged.add(d.ids[f"d{i}"])

        await asyncio.gather(*(vote(i) for i in range(1, 16)))  # all of these acknowledged
        assert len(acknowledged) == 15
        late = [asyncio.create_task(vote(i)) for i in range(16, 31)]
        await asyncio.sleep(random.uniform(0.0, 0.05))
        await d.server.stop(hard=True)  # the power cut, with ballots in flight
        await asyncio.gather(*late)
    await d.server.start()
    async with d.client() as c:
        view = (await c.get(f"/api/polls/{poll}", headers=d.h("d1"))).json()["poll"]
        state = (await c.get("/api/state", headers=d.h("secretary"))).json()
        verify = (await c.get("/api/journal/verify", headers=d.h("secretary"))).json()
        r = await c.post(f"/api/polls/{poll}/close", json={}, headers=d.h("d1"))
    assert view["status"] == "open"
    assert view["voted"] >= len(acknowledged)
    counts = r.json()["poll"]["result"]["counts"]
    assert counts["for"] == view["voted"]  # counted once each, never twice
    recorded = {row["participant_id"] for row in r.json()["poll"]["result"]["per_delegate"]}
    assert acknowledged <= recorded
    assert state["attendance"]["present"] == 30
    assert verify["ok"] is True
    await d.server.stop()


def _runs(text: str, size: int = 12) -> set[str]:
    """Runs of 12 characters with at least 8 letters: what a thief would grep for."""
    text = " ".join(nfc(text).split())
    return {text[i : i + size] for i in range(0, max(0, len(text) - size), 7) if sum(ch.isalpha() for ch in text[i : i + size]) >= 8}


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared/corpus is not present")
async def test_nothing_readable_in_the_data_directory(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    source = CORPUS / "nghi-quyet-hdnd-hanoi-11-2025.pdf"
    async with d.client() as c:
        r = await c.post(
            "/api/documents",
            files={"file": (source.name, source.read_bytes(), "application/pdf")},
            data={"item": "1"},
            headers=d.h("secretary"),
        )
        assert r.status_code == 200, r.text
        assert r.json()["document"]["pages"] == 8
    poll = await open_poll(d, 25)
    async with d.client() as c:
        for i in range(1, 21):
            await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=d.h(f"d{i}"))
        await c.post(f"/api/polls/{poll}/close", json={}, headers=d.h("d1"))
    await d.server.stop()
    with pymupdf.open(source) as doc:
        text = "".join(page.get_text() for page in doc)
    needles = {n.encode() for n in NAMES} | {r.encode() for r in _runs(text)}
    needles |= {n.encode("utf-16-le") for n in NAMES}
    assert len(needles) > 500
    files = [p for p in d.data_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        blob = path.read_bytes()
        found = [n for n in needles if n in blob]
        assert not found, f"{path.relative_to(d.data_dir)} holds {found[:3]}"
    kek = (d.server.keys_dir / "kek.key").read_bytes()
    assert all(kek not in p.read_bytes() for p in files)
    ring = Keyring.open(d.server.keys_dir, d.data_dir, create=False)
    data_keys = [ring.existing_key(name) for name in ring.names()]
    assert "sitting-s1" in ring.names() and len(data_keys) >= 5
    for path in files:  # no data key in the clear either: only wrapped by the KEK
        blob = path.read_bytes()
        assert not [k for k in data_keys if k and k in blob], path.name


async def test_demo_sitting_leaves_no_names_or_text_on_disk(tmp_path: Path) -> None:
    from appliance.demo import demo_document_paths
    from appliance.web.demo import DELEGATES

    d = Driver(tmp_path, demo=True)
    await d.server.start()
    async with d.client() as c:
        r = await c.post("/api/pair", json={"code": d.server.setup_code})
        d.tokens["secretary"] = r.json()["token"]
        state = (await c.get("/api/state", headers=d.h("secretary"))).json()
        assert state["body"]["name"] == "Hội đồng nhân dân phường An Bình"
        assert state["body"]["total_delegates"] == 30
        assert len(state["agenda"]) == 5
        assert len(state["documents"]) == len(demo_document_paths())
    await d.server.stop()
    text = ""
    for path, _ in demo_document_paths():
        if path.suffix == ".pdf":
            with pymupdf.open(path) as doc:
                text += "".join(page.get_text() for page in doc)
    needles = {name.encode() for name, _ in DELEGATES} | {r.encode() for r in _runs(text)}
    assert len(needles) > 200
    for path in (p for p in d.data_dir.rglob("*") if p.is_file()):
        blob = path.read_bytes()
        assert not [n for n in needles if n in blob], path.name

