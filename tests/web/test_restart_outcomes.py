"""Start-up keeps its promises: a retry gets its first outcome after any restart, a snapshot
that no longer fits is set aside, a closed sitting is signed, and verify counts sittings."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance.core.settings import Settings
from appliance.store import frames
from appliance.store.journal import Journal
from appliance.store.keys import Keyring
from appliance.store.snapshots import Snapshots
from appliance.web.app import create_app
from appliance.web.outcomes import SNAPSHOT_FIELD
from appliance.web.records import verify_data_dir
from appliance.web.tools import journal_verify
from tests.web.conftest import SETUP_CODE, Hall, build_hall
from tests.web.realserver import Driver

NAMES = [f"Lê Thị Lưu {chr(0x41 + i)}{i:02d}" for i in range(6)]
Q = "Tán thành thông qua Nghị quyết?"


def settings(tmp: Path) -> Settings:
    return Settings(data_dir=tmp / "data", keys_dir=tmp / "keys", setup_code=SETUP_CODE)


@contextlib.contextmanager
def first_hall(tmp: Path) -> Iterator[Hall]:
    """The conftest hall; leaving the block stops the app gracefully (a snapshot is taken)."""
    made = build_hall(tmp)
    try:
        yield next(made)
    finally:
        made.close()


@contextlib.contextmanager
def reopened(tmp: Path, tokens: dict[str, str]) -> Iterator[Hall]:
    """The same data directory and keys in a fresh app: a graceful restart."""
    with TestClient(create_app(settings(tmp))) as client:
        hall = Hall(client)
        hall.tokens = dict(tokens)
        yield hall


def keyring_of(data: Path, keys: Path) -> Keyring:
    return Keyring.open(keys, data, create=False)


def journal_records(data: Path, keys: Path) -> list[tuple[int, dict[str, Any]]]:
    """Every readable record, with the server stopped."""
    keyring = keyring_of(data, keys)

    async def read() -> list[tuple[int, dict[str, Any]]]:
        journal = await Journal.open(data / "journal", keyring.data_key("session"), keys=keyring.journal_key)
        out = list(journal.records())
        await journal.close()
        return out

    return asyncio.run(read())


def snapshot_of(data: Path, keys: Path) -> tuple[int, dict[str, Any]]:
    found = Snapshots(data / "snapshots", keyring_of(data, keys).data_key("session")).load()
    assert found is not None
    return found


def row_for(snapshot: dict[str, Any], client: str) -> list[Any]:
    rows = [row for row in snapshot[SNAPSHOT_FIELD] if row[1] == client]
    assert len(rows) == 1
    return list(rows[0])


def headers(journal: Path) -> list[frames.Header]:
    out: list[frames.Header] = []
    for segment in frames.list_segments(journal):
        buf, off = segment.read_bytes(), 0
        while off < len(buf):
            out.append(frames.read_header(buf, off))
            off = out[-1].end
    return out


def opened_poll(hall: Hall, **body: Any) -> str:
    hall.call("POST", "/api/sitting/open", "chair", json={})
    for role in ("chair", "vice_chair", "delegate"):
        hall.call("POST", "/api/attendance/check-in", role, json={})
    r = hall.call("POST", "/api/polls", "chair", json={"question": Q, **body})
    assert r.status_code == 200, r.text
    return str(r.json()["poll"]["id"])


async def voting(d: Driver) -> tuple[str, dict[str, str], Any]:
    """Open a sitting and a poll on the real server; delegate 3 votes with an Idempotency-Key."""
    async with d.client() as c:
        await c.post("/api/sitting/open", json={}, headers=d.h("d1"))
        await asyncio.gather(*(c.post("/api/attendance/check-in", json={}, headers=d.h(f"d{i}")) for i in range(1, 7)))
        poll = (await c.post("/api/polls", json={"question": Q}, headers=d.h("d1"))).json()["poll"]["id"]
        key = {**d.h("d3"), "Idempotency-Key": "tablet-d3-vote-1"}
        first = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=key)
    assert first.status_code == 200
    return poll, key, first.json()


async def retried(d: Driver, poll: str, key: dict[str, str]) -> tuple[Any, Any, dict[str, Any]]:
    """The same request again, then a fresh key for the same ballot, then the poll."""
    async with d.client() as c:
        retry = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers=key)
        fresh = await c.post(f"/api/polls/{poll}/ballots", json={"answer": "for"}, headers={**d.h("d3"), "Idempotency-Key": "tablet-d3-vote-2"})
        view = (await c.get(f"/api/polls/{poll}", headers=d.h("d1"))).json()["poll"]
    return retry, fresh, view


async def test_retry_after_a_graceful_restart_returns_the_first_outcome(tmp_path: Path) -> None:
    d = Driver(tmp_path)
    await d.setup(NAMES)
    poll, key, first = await voting(d)
    await d.server.restart(hard=False)  # the stop takes a snapshot that covers the ballot
    retry, fresh, view = await retried(d, poll, key)
    await d.server.stop()
    assert (retry.status_code, retry.json()) == (200, {"ok": True, "position": first["position"]})
    assert (fresh.status_code, fresh.json()["code"]) == (409, "already_voted")  # a new key is judged anew
    assert view["voted"] == 1
    found = await asyncio.to_thread(journal_records, d.data_dir, d.server.keys_dir)  # its own event loop
    (record,) = [r for _, r in found if r.get("client") == "tablet-d3-vote-1"]
    _, snap = snapshot_of(d.data_dir, d.server.keys_dir)
    assert row_for(snap, "tablet-d3-vote-1") == [
        record["device"], "tablet-d3-vote-1",
        {"position": first["position"], "changed": True, "ref": poll, "refs": [poll], "fp": record["fp"]},
    ]


async def test_retry_after_snapshots_and_a_power_cut_returns_the_first_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHS_SNAPSHOT_EVERY", "2")
    d = Driver(tmp_path)
    await d.setup(NAMES)
    poll, key, first = await voting(d)
    async with d.client() as c:  # more records: snapshots are taken past the ballot
        for i in (4, 5, 6):
            assert (await c.post(f"/api/polls/{poll}/ballots", json={"answer": "against"}, headers=d.h(f"d{i}"))).status_code == 200
    await d.server.stop(hard=True)
    covered = max(int(p.name[9:21]) for p in (d.data_dir / "snapshots").glob("snapshot-*.sealed"))
    assert covered > first["position"]  # the replay after the snapshot no longer holds the ballot's record
    await d.server.start()
    retry, fresh, view = await retried(d, poll, key)
    await d.server.stop()
    assert (retry.status_code, retry.json()) == (200, {"ok": True, "position": first["position"]})
    assert (fresh.status_code, fresh.json()["code"]) == (409, "already_voted")
    assert view["voted"] == 4


def test_a_secret_ballot_outcome_survives_a_restart_without_its_choice(tmp_path: Path) -> None:
    data, keys = tmp_path / "data", tmp_path / "keys"
    once = {"Idempotency-Key": "tablet-delegate-secret-1"}
    with first_hall(tmp_path) as hall:
        poll = opened_poll(hall, method="secret")
        first = hall.call("POST", f"/api/polls/{poll}/ballots", "delegate", json={"answer": "against"}, headers=once)
        tokens = hall.tokens
    assert first.status_code == 200
    with reopened(tmp_path, tokens) as again:
        retry = again.call("POST", f"/api/polls/{poll}/ballots", "delegate", json={"answer": "against"}, headers=once)
        other = again.call("POST", f"/api/polls/{poll}/ballots", "delegate", json={"answer": "for"}, headers=once)
        view = again.call("GET", f"/api/polls/{poll}", "chair").json()["poll"]
    position = first.json()["position"]
    assert first.json() == {"ok": True, "position": position}
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert (other.status_code, other.json()) == (200, first.json())  # the fingerprint cannot tell choices apart: the first ballot stands
    assert view["voted"] == 1
    (record,) = [r for _, r in journal_records(data, keys) if r.get("client") == "tablet-delegate-secret-1"]
    row = row_for(snapshot_of(data, keys)[1], "tablet-delegate-secret-1")
    assert row == [record["device"], "tablet-delegate-secret-1",
                   {"position": position, "changed": True, "ref": poll, "refs": [poll], "fp": record["fp"]}]
    assert "against" not in json.dumps(row)


def test_closing_a_sitting_writes_a_signed_checkpoint_over_the_close(hall: Hall, tmp_path: Path) -> None:
    hall.call("POST", "/api/sitting/open", "chair", json={})
    hall.call("POST", "/api/attendance/check-in", "delegate", json={})
    close = hall.call("POST", "/api/sitting/close", "chair", json={})
    assert close.status_code == 200
    position = close.json()["position"]
    last = headers(tmp_path / "data" / "journal")[-1]
    assert (last.kind, last.position) == (frames.KIND_CHECKPOINT, position)
    appliance = hall.client.app.state.appliance
    report = verify_data_dir(appliance.keyring, tmp_path / "data")  # pinned to the box's identity key
    assert (report.ok, report.records, report.checkpoints, report.sittings) == (True, position, 1, 1)


def test_journal_verify_prints_records_and_sittings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with first_hall(tmp_path) as hall:
        hall.call("POST", "/api/sitting/open", "chair", json={})
        position = hall.call("POST", "/api/sitting/close", "chair", json={}).json()["position"]
    capsys.readouterr()
    assert journal_verify(settings(tmp_path)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"Nhật ký toàn vẹn / journal verifies: {position} records, 1 sittings"
    journal = tmp_path / "data" / "journal"
    (close,) = [h for h in headers(journal) if h.is_record and h.position == position]
    segment = frames.list_segments(journal)[-1]
    data = bytearray(segment.read_bytes())
    data[close.end - 5] ^= 0x01  # inside the close record's seal, before its checkpoint
    segment.write_bytes(bytes(data))
    assert journal_verify(settings(tmp_path)) == 1
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"Nhật ký có lỗi tại vị trí {position} / journal is damaged at position {position}; "
        f"before it: {position - 1} records, 1 sittings"
    )


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [("model", "ValidationError"), ("outcomes", "ValueError"), ("ahead", "ahead_of_journal")],
)
def test_a_snapshot_that_no_longer_fits_is_set_aside_and_the_journal_replays(
    tmp_path: Path, spoil: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    data, keys = tmp_path / "data", tmp_path / "keys"
    with first_hall(tmp_path) as hall:
        hall.call("POST", "/api/sitting/open", "chair", json={})
        tokens = hall.tokens
    snaps = Snapshots(data / "snapshots", keyring_of(data, keys).data_key("session"))
    position, body = snapshot_of(data, keys)
    expected = {k: v for k, v in body.items() if k != SNAPSHOT_FIELD}
    bad = position
    if spoil == "model":  # sealed and readable, but a field of another shape (an older or newer model)
        snaps.save(position, {**body, "participants": ["no longer", "a map"]})
    elif spoil == "outcomes":
        snaps.save(position, {**body, SNAPSHOT_FIELD: [["dev_x", "key"]]})
    else:  # it covers records the journal does not hold (a cut tail after a crash)
        bad = position + 5
        snaps.save(bad, {**body, "position": bad})
    with caplog.at_level(logging.WARNING, logger="appliance.store.snapshots"), reopened(tmp_path, tokens) as again:
        restored = again.client.app.state.appliance.state.model_dump(mode="json")
        state = again.call("GET", "/api/state", "secretary")
    set_aside = [(r.__dict__["position"], r.__dict__["reason"]) for r in caplog.records if r.__dict__.get("event") == "snapshot_corrupt"]
    assert set_aside == [(bad, reason)]
    assert restored == expected  # rebuilt from the journal alone, the same state
    assert state.status_code == 200
    aside = [p.name for p in (data / "snapshots").iterdir() if ".corrupt-" in p.name]
    assert len(aside) == 1 and re.fullmatch(rf"snapshot-{bad:012d}\.sealed\.corrupt-\d{{8}}T\d{{6}}", aside[0])
    assert snapshot_of(data, keys)[0] == position  # the stop wrote a good one again
