"""Who may read what: every role x every access level, over the API and the page-image URLs,
plus watermarks per viewer, originals, and the record of confidential openings."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from PIL import Image, ImageChops

from appliance.documents.watermark import render_watermarked, watermark_pdf, watermark_text
from tests.web.conftest import ROLES, Hall, build_hall

REPO = Path(__file__).resolve().parents[2]
PDF = REPO / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"
READERS = ("chair", "vice_chair", "delegate", "secretary", "display", "guest")
#: access level -> the roles that may read it (the technician never reads anything).
EXPECTED = {
    "public": {"chair", "vice_chair", "delegate", "secretary", "display", "guest"},
    "delegates": {"chair", "vice_chair", "delegate", "secretary"},
    "group": {"delegate", "secretary"},  # group g1 has the delegate only
    "confidential_named": {"chair", "vice_chair", "secretary", "guest"},  # the guest is named
    "confidential": {"chair", "vice_chair", "secretary"},
}
DOWNLOADERS = {"chair", "vice_chair", "delegate", "secretary"}


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def upload(hall: Hall, **form: str) -> dict[str, Any]:
    files = {"file": (PDF.name, PDF.read_bytes(), "application/pdf")}
    return ok(hall.call("POST", "/api/documents", "secretary", files=files, data={"item": "1", **form}))["document"]


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hall, dict[str, str]]]:
    """One hall with a document at every access level (uploads are the slow part)."""
    for hall in build_hall(tmp_path_factory.mktemp("access")):
        body = {"mode": "manual", "groups": [{"name": "Tổ 1", "members": [hall.ids["delegate"]]}]}
        ok(hall.call("POST", "/api/groups", "chair", json=body))
        docs = {
            "public": upload(hall, access="public")["id"],
            "delegates": upload(hall, access="delegates")["id"],
            "group": upload(hall, access="group:g1")["id"],
            "confidential_named": upload(hall, access="confidential", readers=hall.ids["guest"])["id"],
            "confidential": upload(hall, access="confidential")["id"],
        }
        yield hall, docs


@pytest.mark.parametrize("level", sorted(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_exactly_its_access_levels(lib: tuple[Hall, dict[str, str]], role: str, level: str) -> None:
    hall, docs = lib
    doc = docs[level]
    urls = [f"/api/documents/{doc}", f"/api/documents/{doc}/pages/1", f"/api/documents/{doc}/pages/1?size=thumb",
            f"/api/documents/{doc}/pages/1?size=zoom", f"/api/documents/{doc}/text?page=1"]
    answers = [hall.call("GET", url, role) for url in urls]
    if role == "technician":  # no document.read at all: refused before anything is looked up
        assert {(r.status_code, r.json()["code"]) for r in answers} == {(403, "forbidden")}
        assert hall.call("GET", "/api/state", role).json()["documents"] == {}
        return
    may = role in EXPECTED[level]
    assert [r.status_code for r in answers] == ([200] * 5 if may else [404] * 5)
    if may:
        assert answers[1].headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(answers[1].content)).width == 1280
        assert Image.open(io.BytesIO(answers[2].content)).width == 240
        assert Image.open(io.BytesIO(answers[3].content)).width == 2048
        assert "CHƯƠNG TRÌNH" in answers[4].json()["text"]
    listed = {d["id"] for d in ok(hall.call("GET", "/api/documents", role))["documents"]}
    state = ok(hall.call("GET", "/api/state", role))
    assert (doc in listed, doc in state["documents"], doc in state["agenda"][0]["documents"]) == (may, may, may)
    found = {h["document"] for h in ok(hall.call("GET", "/api/documents/search?q=chuong trinh ky hop", role))["hits"]}
    assert (doc in found) == may
    original = hall.call("GET", f"/api/documents/{doc}/original", role)
    if role not in DOWNLOADERS:
        assert (original.status_code, original.json()["code"]) == (403, "forbidden")
    else:
        assert original.status_code == (200 if may else 404)
        if may:
            assert original.content == PDF.read_bytes()


@pytest.mark.parametrize("role", [*ROLES, None])
def test_guessed_urls_are_refused(lib: tuple[Hall, dict[str, str]], role: str | None) -> None:
    hall, docs = lib
    blob = hall.client.app.state.appliance.state.documents[docs["public"]].blobs["tablet"][0]
    guesses = ["/api/documents/doc_0000000000/pages/1", f"/api/documents/{blob}/pages/1",
               f"/api/documents/{docs['confidential']}/pages/1", f"/api/documents/{docs['public']}/pages/99",
               f"/api/documents/{docs['public']}/pages/0", f"/api/documents/{docs['public']}/pages/1?size=huge"]
    if role in ("chair", "vice_chair", "secretary"):
        guesses.remove(f"/api/documents/{docs['confidential']}/pages/1")
    expected = (401, "not_paired") if role is None else (403, "forbidden") if role == "technician" else (404, "not_found")
    for url in guesses:
        r = hall.call("GET", url, role)
        assert (r.status_code, r.json()["code"]) == expected, url


def test_named_reader_changes_with_access(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, _ = lib
    doc = upload(hall, access="delegates")["id"]
    assert hall.call("GET", f"/api/documents/{doc}", "guest").status_code == 404
    changed = ok(hall.call("POST", f"/api/documents/{doc}/access", "secretary",
                           json={"access": "confidential", "readers": [hall.ids["guest"]]}))["document"]
    assert (changed["access"], changed["readers"]) == ("confidential", [hall.ids["guest"]])
    assert hall.call("GET", f"/api/documents/{doc}", "guest").status_code == 200
    assert hall.call("GET", f"/api/documents/{doc}", "delegate").status_code == 404
    r = hall.call("POST", f"/api/documents/{doc}/access", "delegate", json={"access": "public"})
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = hall.call("POST", f"/api/documents/{doc}/access", "secretary", json={"access": "delegates", "readers": [hall.ids["guest"]]})
    assert (r.status_code, r.json()["code"]) == (400, "invalid")


def test_every_opening_of_a_confidential_document_is_recorded(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, docs = lib
    before = len(ok(hall.call("GET", "/api/documents/openings", "chair"))["openings"])
    ok(hall.call("GET", f"/api/documents/{docs['confidential_named']}", "guest"))
    for _ in range(2):  # the same page again within minutes is one opening, not two
        assert hall.call("GET", f"/api/documents/{docs['confidential_named']}/pages/2", "guest").status_code == 200
    hall.call("GET", f"/api/documents/{docs['public']}", "guest")  # public: not recorded
    rows = ok(hall.call("GET", "/api/documents/openings", "secretary"))["openings"][before:]
    assert [(r["document"], r["participant_id"], r["name"], r["what"], r["page"]) for r in rows] == [
        (docs["confidential_named"], hall.ids["guest"], "Người guest", "open", None),
        (docs["confidential_named"], hall.ids["guest"], "Người guest", "page", 2),
    ]
    only = ok(hall.call("GET", f"/api/documents/openings?document={docs['confidential']}", "chair"))["openings"]
    assert all(r["document"] == docs["confidential"] for r in only)
    for role in ("delegate", "guest", "technician", "display"):
        assert hall.call("GET", "/api/documents/openings", role).status_code == 403


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_watermark_differs_per_viewer_and_carries_the_name(lib: tuple[Hall, dict[str, str]]) -> None:
    hall, _ = lib
    doc = upload(hall, access="delegates", watermark="1")
    assert doc["watermark"] is True
    url = f"/api/documents/{doc['id']}/pages/1"
    chair, delegate = hall.call("GET", url, "chair"), hall.call("GET", url, "delegate")
    again = hall.call("GET", url, "delegate")
    assert chair.headers["etag"] != delegate.headers["etag"]
    assert again.headers["etag"] == delegate.headers["etag"]  # cached per viewer
    assert ImageChops.difference(_image(chair.content), _image(delegate.content)).getbbox() is not None
    # What the delegate got is the page with "Người delegate · ghế 3" stamped on it, as text
    # a PDF reader finds before it is turned into pixels.
    meta = hall.client.app.state.appliance.state.documents[doc["id"]]
    pdf = hall.client.app.state.appliance.blobs.get(meta.pdf_blob)
    text = watermark_text("Người delegate", 3)
    assert text == "Người delegate · ghế 3"
    with pymupdf.open("pdf", watermark_pdf(pdf, 0, text)) as stamped:
        assert stamped[0].get_text().count(text) == 3
    assert delegate.content == render_watermarked(pdf, 0, 1280, "webp", text)
    plain = hall.call("GET", f"/api/documents/{doc['id']}/pages/1", "secretary")
    assert plain.headers["etag"] not in (chair.headers["etag"], delegate.headers["etag"])
    shot = Path("/tmp/phs-shots")
    shot.mkdir(exist_ok=True)
    (shot / "watermark-delegate.webp").write_bytes(delegate.content)
    # The unmarked original never leaves the box for a reader of a watermarked document.
    r = hall.call("GET", f"/api/documents/{doc['id']}/original", "delegate")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert ok(hall.call("GET", f"/api/documents/{doc['id']}", "delegate"))["document"]["downloadable"] is False
    assert hall.call("GET", f"/api/documents/{doc['id']}/original", "secretary").status_code == 200
