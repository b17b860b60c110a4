"""A secret ballot read the way an insider would: with the key, the disk, the logs and every
message the devices saw, and the sealed archive opened with the archive key. Nothing may link a delegate to their own secret choice.

Eight delegates answer a secret opinion poll with eight different answer codes, so each
code names exactly one voter's choice. A record "links" when it holds a delegate's id or
name together with that delegate's code but not every code (a tally holds all of them,
equally for everyone). docs/SECRET_BALLOTS.md has the threat model.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pymupdf
from websockets.asyncio.client import connect

from appliance.archive.cli import main as archive_main
from appliance.archive.envelope import generate_archive_keys
from appliance.store.ballotbox import BallotBox
from appliance.store.blobs import BlobStore
from appliance.store.journal import Journal
from appliance.store.keys import Keyring
from appliance.store.snapshots import Snapshots
from tests.web.realserver import Driver

NAMES = [f"Đại biểu Bí Mật {chr(0x41 + i)}" for i in range(10)]
CODES = [f"phuong_an_{c}" for c in "qwertyui"]  # delegate i+1 answers CODES[i]


class Recorder:
    """Every API response body and every live message, as text."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._tasks: list[asyncio.Task[None]] = []

    def listen(self, base_url: str, token: str) -> None:
        self._tasks.append(asyncio.create_task(self._live(base_url, token)))

    async def _live(self, base_url: str, token: str) -> None:
        url = base_url.replace("http://", "ws://") + "/api/live"
        async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None) as ws:
            async for raw in ws:
                self.texts.append(str(raw))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def live_vote(base_url: str, token: str, poll: str, code: str, rec: Recorder) -> None:
    """A ballot on the live WebSocket, as a tablet sends it; every message it gets back is kept."""
    url = base_url.replace("http://", "ws://") + "/api/live"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}, proxy=None) as ws:
        await ws.send(json.dumps({"type": "vote", "id": "tap", "poll_id": poll, "answer": code}))
        while True:
            raw = str(await asyncio.wait_for(ws.recv(), 10))
            rec.texts.append(raw)
            if raw.startswith('{"type": "ack"'):
                assert json.loads(raw)["ok"] is True
                return


def links(text: str, who: dict[str, tuple[str, str]]) -> list[str]:
    """Delegates whose id or name appears beside their own code in a record that is not a tally."""
    present = {c for c in CODES if c in text}
    if present == set(CODES):
        return []
    return [pid for pid, (name, code) in who.items() if code in present and (pid in text or name in text)]


def open_journal(keyring: Keyring, data: Path) -> Any:
    kwargs: dict[str, Any] = {"identity": keyring.identity()}
    params = inspect.signature(Journal.open).parameters
    if "keys" in params and hasattr(keyring, "journal_key"):
        kwargs["keys"] = keyring.journal_key
    return Journal.open(data / "journal", keyring.data_key("session"), **kwargs)


def archive_texts(d: Driver, sitting: str, tmp_path: Path) -> list[str]:
    """Every file of the sitting's sealed archive, opened with the archive key, as text
    (the minutes PDF and DOCX by their text, so a compressed stream hides nothing)."""
    private, public = generate_archive_keys()
    key = tmp_path / "archive.key"
    key.write_text(private.hex())
    sealed, opened = tmp_path / "insider.phsa", tmp_path / "opened"
    common = ["--data", str(d.data_dir), "--keys", str(d.server.keys_dir)]
    assert archive_main(["build", sitting, *common, "--out", str(sealed), "--recipient", public.hex()]) == 0
    assert archive_main(["open", str(sealed), "--key", str(key), "--out", str(opened)]) == 0
    texts = []
    for path in sorted(p for p in opened.rglob("*") if p.is_file()):
        if path.suffix == ".pdf":
            with pymupdf.open(path) as pdf:
                texts.append("\n".join(page.get_text() for page in pdf))
        elif path.suffix == ".docx":
            with zipfile.ZipFile(path) as z:
                texts.append(re.sub(r"<[^>]+>", "", z.read("word/document.xml").decode()))
        else:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    names = {p.relative_to(opened).as_posix() for p in opened.rglob("*") if p.is_file()}
    assert {"journal/records.jsonl", "minutes/minutes.pdf", "minutes/minutes.docx", "results/polls.json"} <= names
    assert any(NAMES[0] in t for t in texts)  # the archive does name the delegates: the scan is not blind
    return texts


async def test_secret_ballot_leaves_no_link_anywhere(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    rec = Recorder()
    async with d.client() as c:
        async def call(method: str, path: str, who: str, body: Any = None) -> Any:
            r = await c.request(method, path, json=body, headers=d.h(who))
            rec.texts.append(r.text)
            return r.json()

        for who in ("d1", "d3", "secretary"):
            rec.listen(d.server.base_url, d.tokens[who])
        await call("POST", "/api/sitting/open", "d1", {})
        for i in range(1, 11):
            await call("POST", "/api/attendance/check-in", f"d{i}", {})
        poll = (await call("POST", "/api/polls", "d1", {"question": "Ý kiến về phương án quy hoạch?",
                                                         "method": "secret", "kind": "opinion",
                                                         "answers": CODES}))["poll"]["id"]
        await asyncio.gather(*(call("POST", f"/api/polls/{poll}/ballots", f"d{i + 1}", {"answer": CODES[i]})
                               for i in range(4)))
        for who in ("d1", "d3", "secretary", "display"):
            if who in d.tokens:
                await call("GET", "/api/state", who)
        await d.server.restart(hard=True)  # a power cut mid-poll: recovery must not leave a link either
        for who in ("d1", "d3", "secretary"):
            rec.listen(d.server.base_url, d.tokens[who])
        for i in range(4, 8):  # the other four vote on their tablets' live sockets; every reply is recorded
            await live_vote(d.server.base_url, d.tokens[f"d{i + 1}"], poll, CODES[i], rec)
        closed = await call("POST", f"/api/polls/{poll}/close", "d1", {})
        await call("GET", f"/api/polls/{poll}", "d3")
        state = await call("GET", "/api/state", "d1")
        await call("POST", "/api/sitting/close", "d1", {})
        sitting = state["sitting"]["id"]
        finalised = await call("POST", f"/api/minutes/{sitting}/finalise", "secretary")
        await asyncio.sleep(0.3)
    await rec.stop()
    await d.server.stop()
    assert finalised.get("code") is None, finalised
    archived = archive_texts(d, sitting, tmp_path)
    result = closed["poll"]["result"]
    assert result["counts"] == {**dict.fromkeys(CODES, 1), "not_voted": 2}
    assert "per_delegate" not in result

    who = {d.ids[f"d{i + 1}"]: (NAMES[i], CODES[i]) for i in range(8)}
    data = d.data_dir
    keyring = Keyring.open(d.server.keys_dir, data, create=False)
    journal = await open_journal(keyring, data)
    records = [r for _, r in journal.records()]
    await journal.close()
    box = BallotBox.open(data / "ballots" / "box.sealed", keyring.data_key("ballots"))
    slots = [json.loads(s) for s in box._slots if s is not None]
    snap = Snapshots(data / "snapshots", keyring.data_key("session")).load()
    blobs = BlobStore(data / "blobs", keyring)
    blob_texts = [blobs.get(p.name.split(".")[0]).decode("utf-8", "replace")
                  for p in (data / "blobs").rglob("*") if p.is_file()] if (data / "blobs").is_dir() else []
    logs = [line for p in (tmp_path / "logs").glob("server-*") for line in p.read_text("utf-8", "replace").splitlines()]

    everything = {
        "journal": [json.dumps(r, ensure_ascii=False) for r in records],
        "ballot box": [json.dumps(s, ensure_ascii=False) for s in slots],
        "snapshot": [json.dumps(snap, ensure_ascii=False)] if snap else [],
        "blobs": blob_texts,
        "logs": logs,
        "api and live": rec.texts,
        "archive": archived,
    }
    assert len(rec.texts) > 30 and len(records) > 20
    for where, texts in everything.items():
        for text in texts:
            assert not links(text, who), f"{where} links {links(text, who)}: {text[:300]}"
    # The box keeps choices only: no voter, no time, and no commit marker once the record is durable.
    assert sorted(s["c"] for s in slots) == sorted(CODES)
    assert all(set(s) == {"c", "poll"} for s in slots)
    ballot_records = [r for r in records if any(e.get("type") == "ballot_cast" for e in r.get("events", []))]
    assert len(ballot_records) == 8
    assert all(e.get("choice") is None for r in ballot_records for e in r["events"])
    # A ballot sent with an idempotency id keeps a fingerprint of the request; an insider
    # hashes every possible answer, so that fingerprint must not depend on the choice.
    hashed = {hashlib.sha256(json.dumps(["vote", args], sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]
              for code in CODES for args in ({"answer": code, "answers": None}, {"poll_id": poll, "answer": code, "answers": None})}
    fingerprints = [r["fp"] for r in ballot_records if "fp" in r]
    assert len(fingerprints) == 4 and not hashed & set(fingerprints)
    assert len(set(fingerprints)) == 1  # the same for every choice
    markers = {r.get("box") for r in ballot_records}
    assert all(m and m not in json.dumps(slots) for m in markers)
    assert not any(c in line for line in logs for c in CODES)
