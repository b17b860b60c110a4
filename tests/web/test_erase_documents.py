"""``phs sitting erase``: the documents of the items a sitting took up go with it; the others stay byte for byte."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from appliance.core.settings import Settings
from appliance.store.blobs import BlobStore
from appliance.store.keys import Keyring
from appliance.web.app import create_app
from appliance.web.erase import sitting_erase
from tests.web.conftest import SETUP_CODE, Hall

DEMO = Path(__file__).resolve().parents[2] / "appliance" / "demo"
AGENDA = DEMO / "chuong-trinh-ky-hop.pdf"  # "Số: 01/2026"; item 1, taken up by s1 only
BUDGET = DEMO / "to-trinh-du-toan-ngan-sach-2027.pdf"  # "Số: 03/2026"; item 2, taken up by s2
REPORT = DEMO / "bao-cao-kinh-te-xa-hoi-2026.pdf"  # "Số: 02/2026"; item 3, taken up by no sitting
DRAFT = DEMO / "du-thao-nghi-quyet-dau-tu-cong.pdf"  # replaces AGENDA while s1 is open


def settings(tmp: Path) -> Settings:
    return Settings(data_dir=tmp / "data", keys_dir=tmp / "keys", setup_code=SETUP_CODE)


@contextmanager
def running(tmp: Path, tokens: dict[str, str] | None = None) -> Iterator[Hall]:
    """The app on the data directory; stopped (lock released) on leaving."""
    with TestClient(create_app(settings(tmp))) as client:
        hall = Hall(client)
        hall.tokens.update(tokens or {})
        yield hall


def upload(hall: Hall, path: Path, item: int) -> str:
    r = hall.call("POST", "/api/documents", "secretary", files={"file": (path.name, path.read_bytes(), "application/pdf")},
                  data={"item": str(item)})
    assert r.status_code == 200, r.text
    return str(r.json()["document"]["id"])


def hold(hall: Hall, item: int) -> None:
    """Open the next sitting, take up ``item``, close the sitting."""
    assert hall.call("POST", "/api/sitting/open", "chair", json={"confirmed_wall": time.time()}).status_code == 200
    assert hall.call("POST", "/api/agenda/current", "chair", json={"item": item}).status_code == 200
    assert hall.call("POST", "/api/sitting/close", "chair", json={}).status_code == 200


def content(hall: Hall, doc: str) -> dict[str, Any]:
    """What a delegate and the secretary get of a document: status codes and bytes."""
    page = hall.call("GET", f"/api/documents/{doc}/pages/1", "delegate")
    original = hall.call("GET", f"/api/documents/{doc}/original", "secretary")
    text = hall.call("GET", f"/api/documents/{doc}/text?page=1", "delegate")
    search = hall.call("GET", "/api/documents/search", "delegate", params={"q": "so", "document": doc})
    notes = hall.call("GET", "/api/annotations/export", "delegate", params={"document": doc})
    return {"codes": [page.status_code, original.status_code, text.status_code, search.status_code, notes.status_code],
            "page": page.content, "original": original.content, "errors": {page.json()["code"]} if page.status_code != 200 else set()}


def blob_ids(hall: Hall, doc: str) -> set[str]:
    meta = hall.client.app.state.appliance.state.documents[doc]
    ids = {meta.original_blob, meta.text_blob, meta.pdf_blob, *(b for pages in meta.blobs.values() for b in pages)}
    return {i for i in ids if len(i) == 32}


@pytest.fixture
def session(tmp_path: Path) -> dict[str, Any]:
    """Two sittings: s1 took up item 1 (its document replaced meanwhile), s2 item 2; item 3 nobody."""
    from tests.web.conftest import build_hall

    gen = build_hall(tmp_path)
    hall = next(gen)
    hall.call("POST", "/api/setup", "secretary", json={"body": "HĐND xã Thử", "session": "Kỳ họp thứ nhất",
                                                       "sittings": ["Phiên thứ nhất", "Phiên thứ hai"]})
    for title in ("Mục 2", "Mục 3"):
        hall.call("POST", "/api/agenda", "secretary", json={"title": title})
    agenda, budget, report = upload(hall, AGENDA, 1), upload(hall, BUDGET, 2), upload(hall, REPORT, 3)
    assert hall.call("POST", "/api/sitting/open", "chair", json={"confirmed_wall": time.time()}).status_code == 200
    assert hall.call("POST", "/api/agenda/current", "chair", json={"item": 1}).status_code == 200
    replaced = hall.call("POST", f"/api/documents/{agenda}/replace", "secretary",
                         files={"file": (DRAFT.name, DRAFT.read_bytes(), "application/pdf")})
    assert replaced.status_code == 200, replaced.text
    draft = str(replaced.json()["document"]["id"])
    assert hall.call("POST", "/api/sitting/close", "chair", json={}).status_code == 200
    hold(hall, 2)
    docs = {"agenda": agenda, "draft": draft, "budget": budget, "report": report}
    before = {name: content(hall, doc) for name, doc in docs.items()}
    ids = {name: blob_ids(hall, doc) for name, doc in docs.items()}
    tokens = dict(hall.tokens)
    gen.close()  # the server stops: erasing needs the data directory to itself
    return {"tmp": tmp_path, "docs": docs, "before": before, "ids": ids, "tokens": tokens}


def stored_blobs(tmp: Path) -> dict[str, str]:
    """Every blob file left: id -> the key its header names."""
    blobs = BlobStore(tmp / "data" / "blobs", Keyring.open(tmp / "keys", tmp / "data", create=False))
    return {p.stem: blobs.key_name(p.stem) for p in (tmp / "data" / "blobs").rglob("*.blob")}


def test_erase_takes_the_documents_of_the_sittings_items_and_serves_the_rest_unchanged(
    session: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, docs, before, ids = session["tmp"], session["docs"], session["before"], session["ids"]
    assert all(b["codes"] == [200, 200, 200, 200, 200] for b in before.values())
    capsys.readouterr()

    assert sitting_erase(settings(tmp), "s1", True) == 0
    out = capsys.readouterr().out
    assert "Đã xóa phiên họp: " in out and " bản ghi và 2 tài liệu không còn đọc được" in out
    assert "records and 2 documents are now unreadable" in out

    # Nothing of the two versions of item 1's document is left on disk; nothing else went.
    left = stored_blobs(tmp)
    assert not (ids["agenda"] | ids["draft"]) & set(left)
    assert set(left) == ids["budget"] | ids["report"]
    assert set(left.values()) == {f"doc-{docs['budget']}", f"doc-{docs['report']}"}
    ring = Keyring.open(tmp / "keys", tmp / "data", create=False)
    assert ring.erased(f"doc-{docs['agenda']}") and ring.erased(f"doc-{docs['draft']}")

    with running(tmp, session["tokens"]) as hall:
        gone = content(hall, docs["agenda"])
        kept = {name: content(hall, docs[name]) for name in ("budget", "report")}
        unknown = hall.call("GET", f"/api/documents/{docs['draft']}/pages/1", "delegate")  # its record went with s1
        meta = hall.call("GET", f"/api/documents/{docs['agenda']}", "delegate")
        listing = hall.call("GET", "/api/documents", "delegate")
        everywhere = hall.call("GET", "/api/documents/search", "delegate", params={"q": "so"})
        refused = hall.call("GET", f"/api/documents/{docs['agenda']}/pages/1", "delegate").json()
    assert gone["codes"] == [410, 410, 410, 410, 410] and gone["errors"] == {"erased"}
    assert (refused["message"], refused["message_en"]) == ("Tài liệu này đã bị xóa khỏi máy.", "This document was erased from the box.")
    for name, now in kept.items():
        assert now["codes"] == [200, 200, 200, 200, 200]
        assert (now["page"], now["original"]) == (before[name]["page"], before[name]["original"])
    assert unknown.status_code == 404
    assert meta.status_code == 200 and meta.json()["document"]["pages"] == 2  # the metadata stays
    assert listing.status_code == 200
    assert everywhere.status_code == 200
    assert {h["document"] for h in everywhere.json()["hits"]} == {docs["budget"], docs["report"]}


def test_erasing_the_last_sitting_takes_every_document_and_the_shared_key(
    session: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, docs = session["tmp"], session["docs"]
    assert sitting_erase(settings(tmp), "s2", True) == 0  # s1 is still there: item 2's document only
    assert "records and 1 document are now unreadable" in capsys.readouterr().out
    assert set(stored_blobs(tmp).values()) == {f"doc-{docs[name]}" for name in ("agenda", "draft", "report")}

    assert sitting_erase(settings(tmp), "s1", True) == 0
    assert "records and 3 documents are now unreadable" in capsys.readouterr().out  # item 1's two versions, item 3's
    assert stored_blobs(tmp) == {}
    ring = Keyring.open(tmp / "keys", tmp / "data", create=False)
    assert ring.erased("blobs") and [n for n in ring.names() if n.startswith("doc-")] == []

    with running(tmp, session["tokens"]) as hall:
        codes = {name: content(hall, docs[name])["codes"] for name in ("agenda", "budget", "report")}
        everywhere = hall.call("GET", "/api/documents/search", "delegate", params={"q": "so"})
    assert codes == dict.fromkeys(("agenda", "budget", "report"), [410, 410, 410, 410, 410])
    assert (everywhere.status_code, everywhere.json()["hits"]) == (200, [])


def test_which_documents_go_with_a_sitting() -> None:
    from appliance.web.erase import SittingFacts, documents_going

    facts = SittingFacts(
        items={"s1": {"i1", "i2"}, "s2": {"i2"}},
        # d_moved was in i1, then moved to i3, which nobody took up; d_shared's item s2 took up too
        doc_items={"d_one": {"i1"}, "d_shared": {"i2"}, "d_moved": {"i1", "i3"}, "d_never": {"i3"}, "d_v2": {"i2"}},
        doc_record={"d_one": "session", "d_shared": "session", "d_moved": "session", "d_never": "session", "d_v2": "sitting-s1"},
    )
    assert documents_going(facts, "s1", {"s2"}) == {"d_one", "d_moved", "d_v2"}  # d_v2: added by s1's own records
    assert documents_going(facts, "s2", {"s1"}) == set()
    assert documents_going(facts, "s2", set()) == {"d_one", "d_shared", "d_moved", "d_never", "d_v2"}  # the last one


def test_a_document_stored_before_documents_had_keys_is_shredded_by_the_ids_the_journal_names(tmp_path: Path) -> None:
    from appliance.web.erase import SittingFacts, _erase_documents
    from tests.store.test_blobs import _v1_blob

    keys = Keyring.open(tmp_path / "keys", tmp_path / "data", create=True)
    directory = tmp_path / "data" / "blobs"
    gone, shared, kept = (_v1_blob(keys, directory, body) for body in (b"trang 1 cu", b"bia chung", b"tai lieu khac"))
    facts = SittingFacts(doc_blobs={"d_old": {gone, shared, "pending"}, "d_kept": {shared, kept}})
    done = _erase_documents(keys, tmp_path / "data", facts, {"d_old"}, last=False)
    assert (done["documents_erased"], done["keys_erased"], done["blobs_shredded"]) == (1, ["doc-d_old"], 1)
    assert {p.stem for p in directory.rglob("*.blob")} == {shared, kept}  # what a kept document names stays
    assert keys.erased("doc-d_old") and not keys.erased("blobs")


def test_a_cut_just_before_the_sitting_key_goes_is_finished_by_erasing_again(
    session: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The break-it pass: a cut after the key but before the snapshots left s1's results readable."""
    tmp = session["tmp"]
    snapshots = tmp / "data" / "snapshots"
    assert list(snapshots.glob("snapshot-*"))  # the stopped server left its snapshots
    real = Keyring.erase

    def cut(self: Keyring, name: str, *args: Any, **kw: Any) -> None:
        if name == "sitting-s1":
            raise KeyboardInterrupt  # the power goes just before the sitting key is destroyed
        real(self, name, *args, **kw)

    monkeypatch.setattr(Keyring, "erase", cut)
    with pytest.raises(KeyboardInterrupt):
        sitting_erase(settings(tmp), "s1", True)
    assert list(snapshots.glob("snapshot-*")) == []  # already shredded: nothing holds s1 under the session key
    monkeypatch.setattr(Keyring, "erase", real)
    assert sitting_erase(settings(tmp), "s1", True) == 0  # not "already erased": the rerun finishes
    assert Keyring.open(tmp / "keys", tmp / "data", create=False).erased("sitting-s1")


def test_the_sittings_minutes_and_outbox_archives_go_with_it_and_the_others_stay(session: dict[str, Any]) -> None:
    tmp = session["tmp"]
    with running(tmp, session["tokens"]) as hall:
        for sid in ("s1", "s2"):
            r = hall.call("POST", f"/api/minutes/{sid}/finalise", "secretary")
            assert r.status_code == 200, r.text
    outbox = tmp / "data" / "archive" / "outbox"  # what finalising leaves for `phs sync` when upstream is set
    outbox.mkdir(parents=True, exist_ok=True)
    for name in ("s1-0123456789abcdef.phsa", "s1-0123456789abcdef.phsa.sha256", "s2-fedcba9876543210.phsa"):
        (outbox / name).write_bytes(b"sealed to the upstream archive key")
    assert {"minutes-s1", "minutes-s2"} <= set(stored_blobs(tmp).values())

    assert sitting_erase(settings(tmp), "s1", True) == 0
    assert "minutes-s1" not in set(stored_blobs(tmp).values()) and "minutes-s2" in set(stored_blobs(tmp).values())
    assert {p.name.split("-")[0] for p in outbox.iterdir()} == {"s2"}
    blobs = BlobStore(tmp / "data" / "blobs", Keyring.open(tmp / "keys", tmp / "data", create=False))
    kept = [blobs.get(i)[:4] for i, key in stored_blobs(tmp).items() if key == "minutes-s2"]
    assert sorted(kept) == [b"%PDF", b"PK\x03\x04"]  # s2's minutes, PDF and DOCX, still open
