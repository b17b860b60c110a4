"""The record of the sitting on the real server: erasure, tampering, a missing key, retries, the key stick."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from appliance.store import frames
from appliance.store.keys import Keyring
from tests.web.realserver import Driver

REPO = Path(__file__).resolve().parents[2]
NAMES = [f"Trần Văn Ghi {chr(0x41 + i)}{i:02d}" for i in range(12)]
DOCUMENT = REPO / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"


def phs(*args: str) -> subprocess.CompletedProcess[str]:
    """The ``phs`` command as an operator runs it, in its own process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )


def dirs(d: Driver) -> list[str]:
    return ["--data", str(d.data_dir), "--keys", str(d.server.keys_dir)]


async def hold_sitting(d: Driver, c: httpx.AsyncClient, present: int, voters: int, item: int | None = None) -> str:
    """Open the next sitting, check in, take up ``item``, vote on one motion, close the poll and the sitting."""
    r = await c.post("/api/sitting/open", json={"confirmed_wall": time.time()}, headers=d.h("d1"))
    assert r.status_code == 200, r.text
    if item is not None:
        assert (await c.post("/api/agenda/current", json={"item": item}, headers=d.h("d1"))).status_code == 200
    await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, present + 1)))
    poll = str((await c.post("/api/polls", json={"question": "Tán thành?"}, headers=d.h("d1"))).json()["poll"]["id"])
    for i in range(1, voters + 1):
        assert (await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=d.h(f"d{i}"))).status_code == 200
    assert (await c.post(f"/api/polls/{poll}/close", json={}, headers=d.h("d1"))).status_code == 200
    assert (await c.post("/api/sitting/close", json={}, headers=d.h("d1"))).status_code == 200
    return poll


def snapshot_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_erase_shreds_one_sitting_and_keeps_the_rest(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES, sittings=["Phiên họp thứ nhất", "Phiên họp thứ hai"])
    async with d.client() as c:
        doc = (await c.post("/api/documents", files={"file": (DOCUMENT.name, DOCUMENT.read_bytes(), "application/pdf")},
                            data={"item": "1"}, headers=d.h("secretary"))).json()["document"]
        first = await hold_sitting(d, c, present=10, voters=9, item=1)  # item 1's document goes with s1
        second = await hold_sitting(d, c, present=11, voters=8)
    # While the server runs, erasing is refused: it holds the writer's lock.
    running = phs("sitting", "erase", "s1", "--force", *dirs(d))
    assert running.returncode == 1 and "stop it first" in running.stderr
    await d.server.stop()
    ring = Keyring.open(d.server.keys_dir, d.data_dir, create=False)
    before = frames.scan(d.data_dir / "journal", ring.existing_key)
    sealed_s1 = sum(1 for p in frames.list_segments(d.data_dir / "journal") for h in _headers(p) if h.key_id == "sitting-s1")
    assert before.problem is None and before.shredded == {} and sealed_s1 > 20

    refused = phs("sitting", "erase", "s1", *dirs(d))
    assert refused.returncode == 1
    assert "biên nhận" in refused.stderr and "No upstream receipt is recorded" in refused.stderr
    assert (d.data_dir / "keys" / "sitting-s1.wrapped").exists()

    erased = phs("sitting", "erase", "s1", "--force", *dirs(d))
    assert erased.returncode == 0, erased.stderr
    body = json.loads(erased.stdout[: erased.stdout.rindex("}") + 1])
    assert (body["erased"], body["shredded_records"], body["journal_ok"]) == ("s1", sealed_s1, True)
    assert (body["documents_erased"], body["keys_erased"], body["last_sitting"]) == (1, [f"doc-{doc['id']}"], False)
    assert f"{sealed_s1} records and 1 document are now unreadable" in erased.stdout
    assert list((d.data_dir / "blobs").rglob("*.blob")) == []  # the document's pages, text, PDF and original
    again = phs("sitting", "erase", "s1", "--force", *dirs(d))
    assert again.returncode == 1 and "already erased" in again.stderr

    verify = phs("journal", "verify", *dirs(d))
    assert verify.returncode == 0, verify.stdout
    assert f"{sealed_s1} shredded" in verify.stdout
    # No command, no keyring can open those frames any more; the others still open.
    ring = Keyring.open(d.server.keys_dir, d.data_dir, create=False)
    assert ring.existing_key("sitting-s1") is None
    assert not (d.data_dir / "keys" / "sitting-s1.wrapped").exists()
    after = frames.scan(d.data_dir / "journal", ring.existing_key)
    assert after.problem is None and after.shredded == {"sitting-s1": sealed_s1}
    assert list((d.data_dir / "snapshots").glob("snapshot-*")) == []

    await d.server.start()
    async with d.client() as c:
        state = (await c.get("/api/state", headers=d.h("secretary"))).json()
        gone = await c.get(f"/api/polls/{first}", headers=d.h("d1"))
        kept = (await c.get(f"/api/polls/{second}", headers=d.h("d1"))).json()["poll"]
        page = await c.get(f"/api/documents/{doc['id']}/pages/1", headers=d.h("d2"))
        check = (await c.get("/api/journal/verify", headers=d.h("secretary"))).json()
        reopen = await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
    assert [s["status"] for s in state["sittings"]] == ["closed", "closed"]
    assert gone.status_code == 404
    assert kept["result"]["counts"]["for"] == 8 and kept["result"]["turnout"] == 8
    assert (page.status_code, page.json()["code"]) == (410, "erased")
    assert (check["ok"], check["shredded"]) == (True, sealed_s1)
    assert reopen.status_code == 409  # nothing is ever written under the erased name again
    await d.server.stop()


def _headers(path: Path) -> list[frames.Header]:
    buf, off, out = path.read_bytes(), 0, []
    while off < len(buf):
        h = frames.read_header(buf, off)
        out.append(h)
        off = h.end
    return out


async def test_cli_verify_names_the_first_bad_position(tmp_path: Path) -> None:
    d = Driver(tmp_path / "run")
    await d.setup(NAMES)
    async with d.client() as c:
        await hold_sitting(d, c, present=10, voters=10)
    await d.server.stop()
    source = d.data_dir
    segment = frames.list_segments(source / "journal")[0]
    records = [h for h in _headers(segment) if h.is_record]
    middle = records[len(records) // 2]
    nxt = records[len(records) // 2 + 1]
    assert nxt.start == middle.end

    def tampered(name: str, data: bytes) -> list[str]:
        copy = tmp_path / name
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.sock"))
        (copy / "journal" / segment.name).write_bytes(data)
        return ["--data", str(copy), "--keys", str(d.server.keys_dir)]

    original = segment.read_bytes()
    flipped = bytearray(original)
    flipped[(middle.start + middle.end) // 2] ^= 0x01
    deleted = original[: middle.start] + original[middle.end :]
    swapped = original[: middle.start] + original[nxt.start : nxt.end] + original[middle.start : middle.end] + original[nxt.end :]
    for name, data in (("flip", bytes(flipped)), ("delete", deleted), ("reorder", swapped)):
        out = phs("journal", "verify", *tampered(name, data))
        assert out.returncode == 1, (name, out.stdout)
        assert f"journal is damaged at position {middle.position}" in out.stdout, (name, out.stdout)
        assert json.loads(out.stdout[: out.stdout.rindex("}") + 1])["first_bad"] == middle.position
    assert phs("journal", "verify", "--data", str(source), "--keys", str(d.server.keys_dir)).returncode == 0


async def test_missing_key_file_refuses_to_start_and_changes_nothing(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES[:3])
    await d.server.stop()
    kek = d.server.keys_dir / "kek.key"
    kept = tmp_path / "kek.saved"
    kek.rename(kept)
    before = snapshot_tree(d.data_dir)
    out = subprocess.run(
        d.server.command(), capture_output=True, text=True, timeout=60, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert out.returncode != 0
    assert "PHS will not start" in out.stderr and str(kek) in out.stderr and "không khởi động" in out.stderr
    assert snapshot_tree(d.data_dir) == before  # same files, same bytes
    assert not kek.exists()  # and no new key was made in its place
    kept.rename(kek)
    await d.server.start()  # the real key opens everything again
    await d.server.stop()


async def test_retry_after_sigkill_returns_the_first_outcome(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, 11)))
        poll = (await c.post("/api/polls", json={"question": "Tán thành?"}, headers=d.h("d1"))).json()["poll"]["id"]
        key = {**d.h("d3"), "Idempotency-Key": "tablet-d3-vote-1"}
        first = (await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=key)).json()
    await d.server.restart(hard=True)
    async with d.client() as c:
        retry = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=key)
        other = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "against"}, headers=key)
        fresh = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers={**d.h("d3"), "Idempotency-Key": "tablet-d3-vote-2"})
        view = (await c.get(f"/api/polls/{poll}", headers=d.h("d1"))).json()["poll"]
    assert retry.status_code == 200
    assert retry.json()["position"] == first["position"]  # the first outcome, not a second ballot
    assert other.status_code == 409 and other.json()["code"] == "conflict"  # same key, other request
    assert fresh.status_code == 409 and fresh.json()["code"] == "already_voted"  # a new key is judged anew
    assert view["voted"] == 1
    await d.server.stop()


async def test_usb_key_stick_locks_and_unlocks_the_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stick = tmp_path / "stick"
    monkeypatch.setenv("PHS_KEY_PROVIDER", "usb")
    monkeypatch.setenv("PHS_KEY_MOUNT", str(stick))
    d = Driver(tmp_path)
    await d.server.start()  # no stick: the box starts, locked
    async with d.client() as c:
        health = (await c.get("/api/health")).json()
        api = await c.get("/api/state")
        page = await c.get("/ui/")
        assert health["locked"] is True
        assert api.status_code == 503 and api.json()["code"] == "locked"
        assert page.status_code == 503 and "Hãy cắm khóa USB" in page.text and "Insert the key stick" in page.text
        stick.mkdir()  # a blank stick on a fresh box: the key is made on it
        await _until_unlocked(c)
    assert (stick / "phs" / "kek.key").stat().st_size == 32
    async with d.client() as c:
        r = await c.post("/api/pair", json={"code": d.server.setup_code})
        assert r.status_code == 200
        d.tokens["secretary"] = r.json()["token"]
        await c.post("/api/setup", json={"body": "HĐND xã Khóa", "session": "Kỳ họp"}, headers=d.h("secretary"))
    await d.server.stop()
    status = phs("keys", "status", *dirs(d))
    assert status.returncode == 0 and '"provider": "usb"' in status.stdout and "session" in status.stdout
    assert "kek" not in status.stdout.split('"data_keys"')[1]
    stick.rename(tmp_path / "away")  # the stick is pulled out
    await d.server.start()
    async with d.client() as c:
        assert (await c.get("/api/health")).json().get("locked") is True
        (tmp_path / "away").rename(stick)
        await _until_unlocked(c)
        state = (await c.get("/api/state", headers=d.h("secretary"))).json()
    assert state["body"]["name"] == "HĐND xã Khóa"
    await d.server.stop()


async def _until_unlocked(c: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if not (await c.get("/api/health")).json().get("locked"):
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the box did not unlock within 15 s of the stick appearing")
