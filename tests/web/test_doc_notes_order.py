"""A delegate's notes exported as a PDF, notes flagged stale after a new version, and the
reading order of an item's documents after moves — over the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest

from tests.web.conftest import Hall, build_hall

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "appliance" / "demo"
RESOLUTION = REPO.parent / "shared" / "corpus" / "nghi-quyet-hdnd-hanoi-11-2025.pdf"


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def upload(hall: Hall, path: Path, item: int = 1) -> dict[str, Any]:
    files = {"file": (path.name, path.read_bytes(), "application/pdf")}
    return ok(hall.call("POST", "/api/documents", "secretary", files=files, data={"item": str(item)}))["document"]


def note(hall: Hall, role: str, note_id: str, doc: str, **fields: Any) -> dict[str, Any]:
    return ok(hall.call("PUT", f"/api/annotations/{note_id}", role, json={"document": doc, **fields}))["annotation"]


def order(hall: Hall, item: int) -> list[str]:
    return list(ok(hall.call("GET", "/api/state", "secretary"))["agenda"][item - 1]["documents"])


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    for made in build_hall(tmp_path_factory.mktemp("notes-order")):
        ok(made.call("POST", "/api/agenda", "secretary", json={"title": "Mục 2"}))
        yield made


def test_notes_export_has_every_page_and_only_the_callers_notes(hall: Hall) -> None:
    if not RESOLUTION.is_file():
        pytest.skip(f"shared corpus not found at {RESOLUTION}")
    with pymupdf.open(RESOLUTION) as original:
        pages = original.page_count
    assert pages == 8
    doc = upload(hall, RESOLUTION)["id"]
    note(hall, "delegate", "note-delegate-1", doc, page=2, kind="text", at=[100, 120], text="Đề nghị làm rõ khoản 3")
    note(hall, "delegate", "note-delegate-2", doc, page=1, kind="highlight", rects=[[72, 90, 300, 110]], text="Số liệu năm 2025")
    note(hall, "chair", "note-chair-1", doc, page=2, kind="text", at=[50, 50], text="Ý riêng của chủ tọa")
    r = hall.call("GET", f"/api/annotations/export?document={doc}", "delegate")
    assert r.status_code == 200
    assert (r.headers["content-type"], r.headers["cache-control"]) == ("application/pdf", "private, no-store")
    with pymupdf.open("pdf", r.content) as exported:
        assert exported.page_count == pages
        found = [(p.number + 1, a.type[1], a.info["content"], a.info["title"]) for p in exported for a in p.annots()]
    assert found == [
        (1, "Highlight", "Số liệu năm 2025", "Người delegate"),
        (2, "Text", "Đề nghị làm rõ khoản 3", "Người delegate"),
    ]
    r = hall.call("GET", f"/api/annotations/export?document={doc}", "chair")
    with pymupdf.open("pdf", r.content) as exported:
        assert [(p.number + 1, a.info["content"]) for p in exported for a in p.annots()] == [(2, "Ý riêng của chủ tọa")]
    # A role without notes gets none; a stranger gets nothing at all.
    assert hall.call("GET", f"/api/annotations/export?document={doc}", None).status_code == 401


def test_notes_on_a_replaced_version_stay_with_it_flagged_stale(hall: Hall) -> None:
    old = upload(hall, DEMO / "du-thao-nghi-quyet-dau-tu-cong.pdf")["id"]
    note(hall, "delegate", "note-old-version", old, page=1, kind="text", at=[80, 80], text="Trên bản dự thảo 1")
    before = ok(hall.call("GET", f"/api/annotations?document={old}", "delegate"))["annotations"]
    assert [(n["id"], n["stale"]) for n in before] == [("note-old-version", False)]
    files = {"file": ("du-thao-2.pdf", (DEMO / "bao-cao-kinh-te-xa-hoi-2026.pdf").read_bytes(), "application/pdf")}
    new = ok(hall.call("POST", f"/api/documents/{old}/replace", "secretary", files=files))["document"]
    assert (new["version"], new["replaces"]) == (2, old)
    note(hall, "delegate", "note-new-version", new["id"], page=2, kind="text", at=[80, 80], text="Trên bản 2")
    listed = ok(hall.call("GET", f"/api/annotations?document={new['id']}", "delegate"))["annotations"]
    assert sorted((n["id"], n["document"], n["stale"], n["mine"]) for n in listed) == [
        ("note-new-version", new["id"], False, True),
        ("note-old-version", old, True, True),
    ]
    on_old = ok(hall.call("GET", f"/api/annotations?document={old}", "delegate"))["annotations"]
    assert [(n["id"], n["stale"]) for n in on_old] == [("note-old-version", True)]
    # Nobody else sees them, on either version.
    assert ok(hall.call("GET", f"/api/annotations?document={new['id']}", "chair"))["annotations"] == []
    # The old version keeps its place nowhere: the new one took it.
    assert new["id"] in order(hall, 1) and old not in order(hall, 1)
    r = hall.call("POST", f"/api/documents/{old}/move", "secretary", json={"position": 1})
    assert (r.status_code, r.json()["code"]) == (409, "conflict")


def test_move_sets_the_exact_reading_order(hall: Hall) -> None:
    names = ["chuong-trinh-ky-hop.pdf", "to-trinh-du-toan-ngan-sach-2027.pdf", "bao-cao-kinh-te-xa-hoi-2026.pdf"]
    a, b, c = (upload(hall, DEMO / n, item=2)["id"] for n in names)
    assert order(hall, 2) == [a, b, c]
    moved = ok(hall.call("POST", f"/api/documents/{c}/move", "secretary", json={"position": 1}))["document"]
    assert (moved["id"], moved["item"]) == (c, 2)
    assert order(hall, 2) == [c, a, b]
    ok(hall.call("POST", f"/api/documents/{a}/move", "secretary", json={"position": 3}))
    assert order(hall, 2) == [c, b, a]
    ok(hall.call("POST", f"/api/documents/{a}/move", "secretary", json={"position": 3}))  # already there
    assert order(hall, 2) == [c, b, a]
    item_1 = order(hall, 1)
    moved = ok(hall.call("POST", f"/api/documents/{b}/move", "secretary", json={"item": 1, "position": 1}))["document"]
    assert moved["item"] == 1
    assert (order(hall, 1), order(hall, 2)) == ([b, *item_1], [c, a])
    r = hall.call("POST", f"/api/documents/{c}/move", "secretary", json={"position": 3})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")
    r = hall.call("POST", f"/api/documents/{c}/move", "delegate", json={"position": 2})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert order(hall, 2) == [c, a]
    # The delegates' view carries the same order.
    assert ok(hall.call("GET", "/api/state", "delegate"))["agenda"][1]["documents"] == [c, a]
