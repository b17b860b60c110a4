"""A long upload is answered before its search text is extracted: the document says
``text_pending``, search and ``/text`` answer what they have, and once the text layer is
stored search finds a phrase on the last page. And the decrypted-page cache never lets a
page past the checks: a revoked device and a role that may not read are refused."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from appliance.documents import jobs, pipeline
from appliance.web.doc_service import services
from tests.web.conftest import Hall
from tests.web.test_doc_first_page import long_pdf

PAGES = 300
PDF = Path(__file__).resolve().parents[2] / "appliance" / "demo" / "chuong-trinh-ky-hop.pdf"


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_long_upload_answers_before_its_text_and_search_finds_page_300_once_ready(
    hall: Hall, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()  # holds the text layer back, so "before" is not a race
    background = pipeline.run_in_background

    async def held(fn: Any, *args: Any) -> Any:
        if fn is jobs.text_job:
            while not gate.is_set():
                await asyncio.sleep(0.01)
        return await background(fn, *args)

    monkeypatch.setattr(pipeline, "run_in_background", held)
    files = {"file": ("bao-cao-dai.pdf", long_pdf(PAGES), "application/pdf")}
    doc = ok(hall.call("POST", "/api/documents", "secretary", files=files, data={"item": "1"}))["document"]
    assert (doc["pages"], doc["text_pending"]) == (PAGES, True)
    url = f"/api/documents/{doc['id']}"
    assert ok(hall.call("GET", url, "delegate"))["document"]["text_pending"] is True
    # Search answers what it has and names the document it could not search yet.
    found = ok(hall.call("GET", "/api/documents/search?q=trang 300", "delegate"))
    assert (found["hits"], found["pending"]) == ([], [doc["id"]])
    # A reader selecting text meanwhile gets that page's text, extracted on its own.
    text = ok(hall.call("GET", f"{url}/text?page={PAGES}", "delegate"))
    assert (text["pending"], text["text"]) == (True, f"Trang {PAGES} / {PAGES}")

    gate.set()
    deadline = time.monotonic() + 120
    while ok(hall.call("GET", url, "delegate"))["document"]["text_pending"]:
        assert time.monotonic() < deadline, "the text layer was never stored"
        time.sleep(0.1)
    found = ok(hall.call("GET", "/api/documents/search?q=trang 300", "delegate"))
    assert ([(h["document"], h["page"]) for h in found["hits"]], found["pending"]) == ([(doc["id"], PAGES)], [])
    text = ok(hall.call("GET", f"{url}/text?page={PAGES}", "delegate"))
    assert (text["pending"], text["text"]) == (False, f"Trang {PAGES} / {PAGES}")


def test_a_cached_page_is_still_refused_to_a_revoked_device_and_to_a_role_that_may_not_read(hall: Hall) -> None:
    files = {"file": (PDF.name, PDF.read_bytes(), "application/pdf")}
    doc = ok(hall.call("POST", "/api/documents", "secretary", files=files, data={"item": "1", "access": "delegates"}))["document"]
    assert doc["text_pending"] is False  # a short document comes with its text
    page = f"/api/documents/{doc['id']}/pages/1"
    first = hall.call("GET", page, "delegate")
    assert (first.status_code, first.headers["x-content-type-options"], first.headers["x-frame-options"]) == (200, "nosniff", "DENY")
    cache = services(hall.client.app.state.appliance).page_cache
    assert len(cache) == 1
    again = hall.call("GET", page, "delegate")
    assert (again.status_code, again.content, again.headers["etag"]) == (200, first.content, first.headers["etag"])
    # Cached or not, a role that may not read it learns nothing, not even by ETag.
    for role in ("guest", "display", "technician"):
        for extra in ({}, {"If-None-Match": first.headers["etag"]}):
            refused = hall.call("GET", page, role, headers=extra)
            assert refused.status_code in (403, 404) and refused.content != first.content, (role, extra)
    ok(hall.call("POST", f"/api/documents/{doc['id']}/access", "secretary", json={"access": "confidential"}))
    assert hall.call("GET", page, "delegate").status_code == 404
    ok(hall.call("POST", f"/api/documents/{doc['id']}/access", "secretary", json={"access": "delegates"}))
    assert hall.call("GET", page, "delegate", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    devices = ok(hall.call("GET", "/api/pairing/devices", "technician"))["devices"]
    device = next(d["id"] for d in devices if d["participant_id"] == hall.ids["delegate"])
    ok(hall.call("POST", f"/api/pairing/devices/{device}/revoke", "secretary"))
    for extra in ({}, {"If-None-Match": first.headers["etag"]}):
        refused = hall.call("GET", page, "delegate", headers=extra)
        assert (refused.status_code, refused.json()["code"]) == (401, "device_revoked")
    assert len(cache) == 1  # still cached: the refusal came from the checks, not from a miss
